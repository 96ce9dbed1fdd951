"""curate export DIR --format F --out OUT: a build's token shards in another trainer's format."""

from __future__ import annotations

import importlib

from curate.storage import location, rmtree

HELP = "export a tokenized build for other trainers: megatron (.bin/.idx), nanogpt (.bin), mds, hf (parquet)"


def add_arguments(p) -> None:
    from curate.export import FORMATS

    p.add_argument("dir", type=location, help="output dir of a build with a tokenize step (a path or an s3:// URI)")
    p.add_argument("--format", required=True, choices=sorted(FORMATS), help="target format")
    p.add_argument("--out", type=location, default=None, help="export dir, a path or an s3:// URI "
                   "(default: DIR/export-FORMAT[-prefix])")
    p.add_argument("--with-prefix", action="store_true",
                   help="include the conditioning prefix and control tokens (conditioned phase); default: off")
    p.add_argument("--overwrite", action="store_true", help="replace an existing export dir")


def run(args) -> int:
    from curate.errors import CurateError, OutputError
    from curate.export import FORMATS
    from curate.manifest import Manifest

    manifest = Manifest.load(args.dir)
    if not manifest.tokenizer:
        raise CurateError(f"{args.dir}: the build has no tokens; add a tokenize step to the recipe")
    out = args.out or args.dir / f"export-{args.format}{'-prefix' if args.with_prefix else ''}"
    if out.exists() and any(out.iterdir()):
        if not args.overwrite:
            raise OutputError(f"{out} is not empty; use --overwrite to replace it, or choose another --out")
        if not (out / "export.json").is_file():
            raise OutputError(f"{out} was not written by curate export; refusing to delete it")
        rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    info = importlib.import_module(FORMATS[args.format]).export(manifest, out, args.with_prefix)
    print(f"wrote {info['num_docs']:,} documents, {info['num_tokens']:,} tokens ({args.format}, "
          f"prefix {'included' if args.with_prefix else 'not included'}) to {out}")
    return 0
