"""Programming language of a source file from its extension (The Stack's language -> extension
mapping, the common languages), computed on Arrow columns without per-row Python.

:func:`language_of_paths` takes the last ``.ext`` of each path's file name, lower-cased, and looks it
up in :data:`EXTENSIONS`; a path without a known extension gets null. ``Makefile`` and
``Dockerfile`` are matched by file name.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

EXTENSIONS: dict[str, str] = {
    "py": "Python", "pyi": "Python", "ipynb": "Jupyter Notebook", "java": "Java", "js": "JavaScript",
    "mjs": "JavaScript", "cjs": "JavaScript", "jsx": "JavaScript", "ts": "TypeScript", "tsx": "TypeScript",
    "c": "C", "h": "C", "cc": "C++", "cpp": "C++", "cxx": "C++", "hpp": "C++", "hh": "C++", "hxx": "C++",
    "cs": "C#", "go": "Go", "rs": "Rust", "rb": "Ruby", "php": "PHP", "swift": "Swift", "kt": "Kotlin",
    "kts": "Kotlin", "scala": "Scala", "m": "Objective-C", "mm": "Objective-C++", "r": "R", "jl": "Julia",
    "lua": "Lua", "pl": "Perl", "pm": "Perl", "hs": "Haskell", "ml": "OCaml", "mli": "OCaml", "fs": "F#",
    "ex": "Elixir", "exs": "Elixir", "erl": "Erlang", "clj": "Clojure", "dart": "Dart", "sh": "Shell",
    "bash": "Shell", "zsh": "Shell", "ps1": "PowerShell", "sql": "SQL", "html": "HTML", "htm": "HTML",
    "css": "CSS", "scss": "SCSS", "less": "Less", "vue": "Vue", "md": "Markdown", "rst": "reStructuredText",
    "tex": "TeX", "json": "JSON", "yaml": "YAML", "yml": "YAML", "toml": "TOML", "xml": "XML",
    "ini": "INI", "cfg": "INI", "csv": "CSV", "tsv": "TSV", "f90": "Fortran", "f": "Fortran",
    "asm": "Assembly", "s": "Assembly", "v": "Verilog", "sv": "SystemVerilog", "vhd": "VHDL",
    "cmake": "CMake", "gradle": "Gradle", "groovy": "Groovy", "proto": "Protocol Buffer", "zig": "Zig",
    "nim": "Nim", "cu": "CUDA", "sol": "Solidity", "elm": "Elm", "txt": "Text",
}
FILE_NAMES = {"makefile": "Makefile", "dockerfile": "Dockerfile", "cmakelists.txt": "CMake"}


def language_of_paths(paths: pa.Array) -> pa.Array:
    """Language name per path (string, null where unknown or the path is null)."""
    names = pc.utf8_lower(pc.replace_substring_regex(paths, r"^.*/", ""))
    ext = pc.struct_field(pc.extract_regex(names, r"\.(?P<ext>[^.]+)$"), [0])
    keys = list(EXTENSIONS)
    by_ext = pc.take(pa.array(list(EXTENSIONS.values())), pc.index_in(ext, value_set=pa.array(keys)))
    by_name = pc.take(pa.array(list(FILE_NAMES.values())), pc.index_in(names, value_set=pa.array(list(FILE_NAMES))))
    return pc.coalesce(by_name, by_ext)
