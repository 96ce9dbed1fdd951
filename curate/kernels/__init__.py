"""Compiled kernels, ahead of time: a process loads a kernel family as a plain extension module
(~1 ms) and never imports numba.

Each ``curate/kernels/<family>.py`` holds numba code and a ``SIGNATURES`` dict: exported function
name -> one numba signature (``"void(u1[::1], i8[::1])"``). :func:`load` returns the family as
an object whose attributes are those functions:

- **AOT (default).** ``numba.pycc`` compiles the family once, for this machine's CPU
  (``target_cpu = "host"``: the same code numba's JIT emits), into
  ``<cache dir>/kernels/<key>/_curate_<family>.<ext>``, with its SHA-256 beside it (checked on
  every load: ~1 ms). Later processes import that file: no numba import (~0.2 s) and no JIT cache
  load (~0.35 s for the first kernel of a process), which were most of a small build's start-up. The first use prints one line on stderr
  (``curate: compiling kernels '<family>' once ...``); concurrent processes wait on a file lock
  and then load what the first one compiled.
- **JIT** (``CURATE_KERNELS=jit``, or when compiling fails: no C compiler, unwritable cache dir,
  a numba without ``pycc``): the family module's numba dispatchers, same results, numba's
  start-up. A fallback says why on stderr, once per family and process.
- **Compiling** runs in a child process whose numba cache (``NUMBA_CACHE_DIR``) is
  ``<key>/.numba``: the kernels a family calls from another file (the tokenizer, in four
  families) compile once per key and are linked into each family from there.

``key`` hashes every ``curate/kernels/*.py`` file, the curate modules they import (their
constants are compiled in), Python, numba, llvmlite and numpy versions, and the CPU's model and
feature flags (a cache dir shared by different machines never loads code built for another CPU).
A changed kernel therefore recompiles, once, on its next use; nothing is read from another key.
Cache dir: ``$CURATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/curate``, else ``~/.cache/curate``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

from curate.text.table_cache import cache_dir

HERE = Path(__file__).resolve().parent
CURATE_ROOT = HERE.parent
#: ``CURATE_KERNELS``: ``aot`` (default) or ``jit``.
MODES = ("aot", "jit")
#: Cold compile seconds of the slowest family (gopher_quality, with the tokenizer), 2-core machine.
COMPILE_SECONDS = 20
_IMPORT_RE = re.compile(r"^[ \t]*(?:from\s+(curate(?:\.\w+)*)\s+import\s+(\([^)]*\)|[^\n#]+)"
                        r"|import\s+(curate(?:\.\w+)*))", re.MULTILINE)

_loaded: dict[str, object] = {}
_key: str | None = None


def mode() -> str:
    value = os.environ.get("CURATE_KERNELS", "aot") or "aot"
    if value not in MODES:
        raise ValueError(f"CURATE_KERNELS={value!r}; allowed: {', '.join(MODES)}")
    return value


def load(family: str):
    """The compiled kernels of ``curate/kernels/<family>.py`` (see the module docstring)."""
    found = _loaded.get(family)
    if found is None:
        found = _loaded[family] = _jit(family) if mode() == "jit" else _aot_or_jit(family)
    return found


def _jit(family: str) -> ModuleType:
    return importlib.import_module(f"curate.kernels.{family}")


def _aot_or_jit(family: str):
    path = library_path(family)
    try:
        if not verified(path):
            compile_locked(family, path)
        return _import_library(family, path)
    except (OSError, ImportError, subprocess.CalledProcessError) as exc:
        reason = exc.stderr.strip().splitlines()[-1] if getattr(exc, "stderr", None) else str(exc)
        print(f"curate: kernels '{family}' run through numba's JIT ({reason[:300]}); the first run "
              f"compiles them (~{COMPILE_SECONDS} s), later runs load numba's cache",
              file=sys.stderr, flush=True)
        return _jit(family)


def _import_library(family: str, path: Path) -> ModuleType:
    name = f"_curate_{family}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def library_path(family: str) -> Path:
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    return cache_dir() / "kernels" / kernels_key() / f"_curate_{family}{suffix}"


def verified(path: Path) -> bool:
    """``path`` exists and matches the SHA-256 its compiler wrote beside it (``<path>.sha256``): a
    truncated or overwritten library is compiled again, never loaded (loading one can crash)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == digest_path(path).read_text().strip()
    except OSError:
        return False


def digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def compile_locked(family: str, path: Path) -> None:
    """Compile ``family`` into ``path`` in a child process, under a lock on its directory: one
    process compiles, the others wait and then find the file."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{family}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if verified(path):
            return
        print(f"curate: compiling kernels '{family}' once (~{COMPILE_SECONDS} s; cached in "
              f"{path.parent.parent}) ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(CURATE_ROOT.parent), env.get("PYTHONPATH", "")])
        # numba's cache of the kernels' callees (``cache=True``), private to this key: families of one
        # key share the tokenizer's compiled code (~15 s once, not per family), and a callee whose
        # imported helper changed is never loaded stale (numba checks only the callee's own file)
        env["NUMBA_CACHE_DIR"] = str(path.parent / ".numba")
        subprocess.run([sys.executable, "-m", "curate.kernels.compile", family, str(path)],
                       check=True, capture_output=True, text=True, env=env)
        if os.environ.get("CURATE_VERBOSE"):
            print(f"curate: kernels '{family}' compiled in {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr, flush=True)


def kernels_key() -> str:
    """Hex key of the compiled kernels (see the module docstring); computed once per process."""
    global _key
    if _key is None:
        h = hashlib.sha256()
        for name in ("numba", "llvmlite", "numpy"):
            h.update(f"{name}={_version(name)}|".encode())
        h.update(f"{sys.version}|{platform.machine()}|{cpu_identity()}|".encode())
        for path in key_sources():
            h.update(path.relative_to(CURATE_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
        _key = h.hexdigest()[:20]
    return _key


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def cpu_identity() -> str:
    """The CPU's model name and feature flags (Linux), else what ``platform`` says."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "flags", "Features", "CPU part") and key not in fields:
            fields[key] = value.strip()
    return repr(sorted(fields.items()))


def key_sources() -> list[Path]:
    """Every kernel file and, transitively, every curate module a kernel file imports (packages'
    ``__init__.py`` files are not followed: curate's own imports everything)."""
    todo = sorted(p for p in HERE.glob("*.py") if p.name != "__init__.py")
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _curate_imports(path.read_text()):
            found = _module_file(module)
            if found is not None and found not in seen:
                todo.append(found)
    return sorted(seen)


def _curate_imports(source: str) -> list[str]:
    modules = []
    for m in _IMPORT_RE.finditer(source):
        if m.group(3):
            modules.append(m.group(3))
            continue
        modules.append(m.group(1))
        # ``from curate.text import charclass``: the names may be submodules
        names = m.group(2).replace("(", " ").replace(")", " ").replace(",", " ").split()
        modules += [f"{m.group(1)}.{n}" for n in names if n.isidentifier() and n != "as"]
    return modules


def _module_file(module: str) -> Path | None:
    parts = module.split(".")[1:]
    base = CURATE_ROOT.joinpath(*parts) if parts else CURATE_ROOT
    candidate = base.with_suffix(".py")
    return candidate if candidate.is_file() else None
