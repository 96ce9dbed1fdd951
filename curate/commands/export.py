"""curate export DIR --format F --out OUT: a build's token shards in another trainer's format.

The export dir is marked as curate's before anything is written into it (``.curate-export``), so
that a dir left by a killed export is recognised and ``--overwrite`` replaces it; ``export.json``,
written last, marks it complete. An export that fails removes what it wrote.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from curate.storage import location, rmtree

HELP = "export a tokenized build for other trainers: megatron (.bin/.idx), nanogpt (.bin), mds, hf (parquet)"
MARKER = ".curate-export"


def add_arguments(p) -> None:
    from curate.export import FORMATS

    p.add_argument("dir", type=location,
                   help="output dir of a build with a tokenize step (a path or an s3:// URI)")
    p.add_argument("--format", required=True, choices=sorted(FORMATS), help="target format")
    p.add_argument("--out", type=location, default=None, help="export dir, a path or an s3:// URI "
                   "(default: DIR/export-FORMAT[-prefix])")
    p.add_argument("--with-prefix", action="store_true",
                   help="include the conditioning prefix and control tokens (conditioned phase); default: off")
    p.add_argument("--overwrite", action="store_true", help="replace an existing export dir")


def run(args) -> int:
    from curate.errors import CurateError
    from curate.export import FORMATS
    from curate.manifest import Manifest

    manifest = Manifest.load(args.dir)
    if not manifest.tokenizer:
        raise CurateError(f"{args.dir}: the build has no tokens; add a tokenize step to the recipe")
    out = args.out or args.dir / f"export-{args.format}{'-prefix' if args.with_prefix else ''}"
    created = prepare_dir(out, args.overwrite)
    try:
        info = importlib.import_module(FORMATS[args.format]).export(manifest, out, args.with_prefix)
    except BaseException as exc:
        _remove_written(out, created)
        if isinstance(exc, OSError):
            raise _io_error(out, exc) from None
        raise
    print(f"wrote {info['num_docs']:,} documents, {info['num_tokens']:,} tokens ({args.format}, "
          f"prefix {'included' if args.with_prefix else 'not included'}) to {out}")
    return 0


def prepare_dir(out: Path, overwrite: bool) -> bool:
    """An empty export dir holding only the marker; refuses anything curate export did not write.
    Returns whether ``out`` was created (else it existed, empty or replaced)."""
    from curate.errors import OutputError

    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a directory; choose another --out")
    try:
        if out.is_dir() and any(out.iterdir()):
            ours = (out / MARKER).is_file() or (out / "export.json").is_file()
            if not ours:
                raise OutputError(f"{out} is not empty and was not written by curate export; "
                                  "choose another --out (it is never deleted)")
            if not overwrite:
                done = (out / "export.json").is_file()
                state = "an export" if done else "an unfinished export (interrupted)"
                raise OutputError(f"{out} holds {state}; use --overwrite to replace it, "
                                  "or choose another --out")
            rmtree(out)
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text("written by curate export; export.json marks it complete\n")
    except OSError as exc:
        raise _io_error(out, exc) from None
    return created


def _remove_written(out: Path, created: bool) -> None:
    """Delete what a failed export wrote: ``out`` itself if it created it, else its contents (it was
    empty or an export this command replaced)."""
    if created:
        rmtree(out, missing_ok=True)
        return
    for child in out.iterdir():
        if child.is_dir() and not child.is_symlink():
            rmtree(child, missing_ok=True)
        else:
            child.unlink(missing_ok=True)


def _io_error(out: Path, exc: OSError):
    from curate.errors import OutputError

    where = exc.filename or out
    return OutputError(f"{where}: {exc.strerror or exc}; fix the export dir (space, permissions) or choose "
                       "another --out, then run the export again")
