"""The text of a dropped document when ``rejected/`` holds ids only (``[output] rejected = "ids"``,
the default): read again from its input, by lineage (``input_file`` relative to the recipe,
``input_row`` = the record's 0-based unit in that file, README "Lineage").

The recipe is the one recorded in ``run.json``/``manifest.json`` (its source's field mapping and
format); the file must still have the size and mtime recorded in ``run.json`` at build time, else
the row may be another record and nothing is shown. The text is the input's, before any step
rewrote it (``c4``). The file is streamed up to the row: seconds for a large compressed JSONL
file, which is fine for looking at one document, and the reason ``rejected = "full"`` exists. The
reading is the card's (``curate.card.readback.read_back``); this module adds the identity check.
"""

from __future__ import annotations

from pathlib import Path

import sys

import orjson

from curate.errors import CurateError


def reread(root: Path, recipe_path: str, source: str, input_file: str, input_row: int) -> tuple[str | None, str]:
    """(text or None, a line saying where it came from or why it could not be read)."""
    from curate.card.readback import read_back
    from curate.commands.sections import load_full_recipe

    where = f"{input_file} row {input_row}"
    try:
        recipe = load_full_recipe(recipe_path)
    except CurateError as exc:
        return None, f"text not kept (rejected = \"ids\") and the recipe does not load ({exc}); rebuild with [output] rejected = \"full\""
    specs = [s for s in recipe.sources if s.name == source]
    path = (recipe.path.parent / input_file)
    if not specs or not path.is_file():
        return None, f"text not kept (rejected = \"ids\") and {where} is gone; rebuild with [output] rejected = \"full\""
    changed = _changed(root, input_file, path)
    if changed:
        return None, f"text not kept (rejected = \"ids\") and {input_file} {changed} since the build"
    doc = {"source": source, "input_file": input_file, "input_row": input_row}
    read_back({"doc": [doc]}, recipe.path.parent, {source: specs[0]}, max_bytes=path.stat().st_size,
              excerpt_chars=sys.maxsize)
    if doc.get("text") is not None:
        return doc["text"], f"text re-read from the input, {where} (before any rewriting step)"
    return None, f"text not kept (rejected = \"ids\") and {where} is not a document of that file"


def _changed(root: Path, input_file: str, path: Path) -> str | None:
    """How the input differs from its identity in run.json (size, mtime_ns), or None."""
    try:
        run = orjson.loads((Path(root) / "run.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return "cannot be checked (no readable run.json)"
    st = path.stat()
    for entry in run.get("inputs", []):
        if entry.get("path") == input_file:
            if entry.get("size") != st.st_size or entry.get("mtime_ns") != st.st_mtime_ns:
                return "changed"
            return None
    return "is not among the build's inputs"
