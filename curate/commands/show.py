"""curate show DIR: documents of a build in the terminal, with their columns, why they were dropped
and, for a duplicate, the document it duplicates side by side.

    curate show DIR --id ID                 # that document, kept or dropped
    curate show DIR --source web --sample 5 --seed 1
    curate show DIR --rejected minhash_duplicate --sample 3      # a reason, a step name, or `any`

Without ``--id`` it shows ``--sample N`` (default 3) documents chosen by seeded hash of the id
(``curate/inspect/locate.py``). A dropped document's text comes from ``rejected/`` when the build
kept it (``[output] rejected = "full"``), else from its input file by lineage
(``curate/inspect/origin.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from curate.errors import CurateError

HELP = "show documents of a build: text, columns, drop step and reason, a duplicate beside its original"


def add_arguments(p) -> None:
    p.add_argument("dir", type=Path, help="output dir of a build (or of `curate mix`)")
    p.add_argument("--id", action="append", dest="ids", metavar="ID", help="document id (repeatable)")
    p.add_argument("--source", help="only documents of this source")
    p.add_argument("--rejected", metavar="REASON",
                   help="dropped documents with this reason or step name (`any`: every dropped document)")
    p.add_argument("--sample", type=int, default=3, metavar="N", help="how many documents (default 3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    p.add_argument("--max-chars", type=int, default=2000, help="cut texts after this many characters (0: never)")
    p.add_argument("--width", type=int, default=None, help="width of the side-by-side view (default: the terminal's)")
    p.add_argument("--context", type=int, default=2, help="equal lines kept around differences (side by side)")


def run(args) -> int:
    from curate.inspect import locate

    for name in ("sample", "max_chars", "context"):
        if getattr(args, name) < (1 if name == "sample" else 0):
            raise CurateError(f"--{name.replace('_', '-')}={getattr(args, name)} is out of range; "
                              f"allowed: >= {1 if name == 'sample' else 0}")
    root = args.dir
    places = locate.select(root, ids=args.ids, source=args.source, reason=args.rejected,
                           sample=None if args.ids else args.sample, seed=args.seed)
    found = locate.fetch(places)
    if args.ids:
        first: dict = {}
        for f in found:  # kept rows come first (shards are searched before rejected/)
            first.setdefault(f.values["id"], f)
        missing = [i for i in args.ids if i not in first]
        if missing:
            where = f"dropped with {args.rejected!r}" if args.rejected else "in its shards or rejected/"
            raise CurateError(f"no document with id {missing[0]!r} {where} in {root}; "
                              "`curate show DIR --sample 5` shows some ids")
        found = [first[i] for i in dict.fromkeys(args.ids)]
    if not found:
        what = f"dropped with {args.rejected!r}" if args.rejected else "kept"
        print(f"no documents {what}{f' of source {args.source!r}' if args.source else ''} in {root}")
        return 1
    width = args.width or shutil.get_terminal_size((120, 40)).columns
    blocks = [document_lines(root, f, args.max_chars, width, args.context) for f in found]
    print("\n\n".join("\n".join(b) for b in blocks))
    return 0


def where(root: Path, found) -> str:
    from curate.inspect import locate

    rel = found.place.path.relative_to(root) if found.place.path.is_relative_to(root) else found.place.path
    if found.place.status == locate.KEPT:
        return f"kept ({rel} row {found.place.row})"
    v = found.values
    return f"dropped by step {v['step']}: {v['reason']} ({rel} row {found.place.row})"


def _text(root: Path, found) -> tuple[str | None, str]:
    from curate.inspect import locate
    from curate.inspect.origin import reread
    from curate.manifest import Manifest

    v = found.values
    if "text" in v or found.place.status == locate.KEPT:
        return v.get("text"), ""
    return reread(root, Manifest.load(root).recipe.path, v["source"], v["input_file"], v["input_row"])


def document_lines(root: Path, found, max_chars: int, width: int, context: int) -> list[str]:
    from curate.inspect import locate
    from curate.inspect.render import column_lines, side_by_side, similarity, text_lines

    root = Path(root)
    lines = [f"=== {found.values['id']}: {where(root, found)}"]
    lines += column_lines(found.values)
    text, note = _text(root, found)
    dup = found.values.get("duplicate_of")
    if found.place.status != locate.REJECTED or not dup or text is None:
        return lines + text_lines(text, max_chars, note)
    lines.append(f"--- text ({len(text):,} chars{'; ' + note if note else ''}): beside its original below")
    original = locate.find_id(root, dup)
    if original is None:
        return lines + [f"--- duplicate of {dup}: not in this build (a document of an earlier build's index)"]
    other, other_note = _text(root, original)
    head = f"--- duplicate of {dup}: {where(root, original)}"
    if other is None:
        return lines + text_lines(text, max_chars) + [head, f"    cannot compare: {other_note}"]
    ratio, here, there = similarity(text, other)
    half = max(10, (width - 3) // 2)
    lines += [f"{head}; lines {ratio:.0%} similar, {here} differ here, {there} there",
              f"{'this document (dropped)':<{half}}   {'the document it duplicates'}"]
    return lines + side_by_side(text, other, width, context)
