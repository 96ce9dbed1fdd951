"""curate export DIR --format F --out OUT: a build's token shards in another trainer's format.

The export dir is marked as curate's before anything is written into it (``.curate-export``), so
that a dir left by a killed export is recognised and ``--overwrite`` replaces it; ``export.json``,
written last, marks it complete. An export that fails removes what it wrote.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from curate.storage import location, rmtree

HELP = ("export a tokenized build for other trainers: megatron (.bin/.idx, --data-path blends), "
        "nanogpt (train.bin, val.bin, meta.pkl), mds, hf (parquet + README.md for load_dataset(DIR))")
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
    p.add_argument("--val-frac", type=float, default=None,
                   help="nanogpt val.bin / hf validation split: this share of documents, by seeded hash of the id "
                        "(default nanogpt: the recipe's [train] holdout_frac, else 0.01; hf: 0)")
    p.add_argument("--seed", type=int, default=None, help="seed of that split (default: the recipe's [train] seed, "
                   "else its [recipe] seed: the documents `curate train` holds out)")
    p.add_argument("--phase", action="append", default=[], metavar="P",
                   help="megatron: one prefix per group of phase P and its --data-path blend with the planned "
                        "token shares (repeatable; phases from --recipe, default the build's recipe)")
    p.add_argument("--blend-by", action="append", default=[], metavar="COLUMN",
                   help="megatron: one prefix per value of COLUMN (source, skill) and a --data-path blend with "
                        "their token counts (repeatable)")
    p.add_argument("--recipe", type=Path, default=None, help="recipe with the [[phases]] / [train] "
                   "(default: the build's recipe)")


def run(args) -> int:
    from curate.errors import CurateError
    from curate.export import FORMATS
    from curate.manifest import Manifest

    manifest = Manifest.load(args.dir)
    if not manifest.tokenizer:
        raise CurateError(f"{args.dir}: the build has no tokens; add a tokenize step to the recipe")
    out = args.out or args.dir / f"export-{args.format}{'-prefix' if args.with_prefix else ''}"
    options = export_options(args, manifest)
    created = prepare_dir(out, args.overwrite)
    try:
        info = importlib.import_module(FORMATS[args.format]).export(manifest, out, options)
    except BaseException as exc:
        _remove_written(out, created)
        if isinstance(exc, OSError):
            raise _io_error(out, exc) from None
        raise
    print(f"wrote {info['num_docs']:,} documents, {info['num_tokens']:,} tokens ({args.format}, "
          f"prefix {'included' if args.with_prefix else 'not included'}) to {out}")
    if args.format == "nanogpt":
        print(f"  val.bin: documents with holdout hash < {options.val_frac:g} (seed {options.seed}); "
              f"tokens {info['file_tokens']}; nanoGPT: python train.py --dataset=<dir name under nanoGPT/data>")
    for name, blend in info.get("blends", {}).items():
        tokens = f" (phase of {blend['num_tokens']:,} tokens)" if blend["num_tokens"] else ""
        print(f"  {name}{tokens}: --data-path {blend['data_path']}")
    for note in info.get("notes", []) + conditioning_notes(options):
        print(f"  note: {note}")
    return 0


def _recipe(args, manifest, needed: bool):
    """The recipe with the [[phases]] / [train] sections: --recipe, else the build's; None when it
    does not load and is not ``needed``."""
    from curate.commands.sections import load_full_recipe
    from curate.errors import CurateError

    path = args.recipe or Path(manifest.recipe.path)
    try:
        return load_full_recipe(path)
    except CurateError as exc:
        if needed:
            raise CurateError(f"{exc}; pass --recipe RECIPE (the one with the [[phases]])") from None
        return None


def export_options(args, manifest):
    """ExportOptions from the flags and the recipe: the validation split (nanogpt, hf) and the blends
    (megatron: a natural blend per --blend-by column, a planned one per --phase)."""
    from curate.errors import CurateError
    from curate.export import DEFAULT_VAL_FRAC, Blend, ExportOptions

    if (args.phase or args.blend_by) and args.format != "megatron":
        raise CurateError(f"--phase and --blend-by make Megatron blends; not with --format {args.format}")
    if args.val_frac is not None and args.format not in ("nanogpt", "hf"):
        raise CurateError(f"--val-frac splits nanogpt and hf exports; not --format {args.format}")
    if args.val_frac is not None and not 0 <= args.val_frac < 1:
        raise CurateError(f"--val-frac={args.val_frac} is out of range; allowed: 0 <= F < 1")
    recipe = _recipe(args, manifest, needed=bool(args.phase)) if (args.phase or args.format in ("nanogpt", "hf")) else None
    train = recipe.section("train") if recipe is not None else None
    seed = args.seed if args.seed is not None else (
        train.seed if train is not None and train.seed is not None else manifest.recipe.seed)
    val_frac = args.val_frac
    if val_frac is None:
        val_frac = 0.0 if args.format != "nanogpt" else (train.holdout_frac if train is not None else DEFAULT_VAL_FRAC)
    blends = [Blend(name=col, group_by=col) for col in dict.fromkeys(args.blend_by)]
    blends += phase_blends(recipe, manifest, args.phase) if args.phase else []
    return ExportOptions(with_prefix=args.with_prefix, val_frac=val_frac, seed=seed, blends=tuple(blends))


def conditioning_notes(options) -> list[str]:
    """A phase whose conditioning flag differs from --with-prefix gets the other form of its documents."""
    return [f"phase {b.name} has conditioning = {str(b.conditioning).lower()}: export it "
            f"{'with' if b.conditioning else 'without'} --with-prefix for the form `curate train` uses"
            for b in options.blends if b.conditioning is not None and b.conditioning != options.with_prefix]


def phase_blends(recipe, manifest, names: list[str]):
    """One Blend per phase: its group_by and the token shares of its plan (``curate mix plan``)."""
    from curate.errors import CurateError
    from curate.export import Blend
    from mixers.index import build_index
    from mixers.plan import plan_phase

    phases = {p.name: p for p in (recipe.section("phases") or ())}
    out = []
    for name in dict.fromkeys(names):
        if name not in phases:
            raise CurateError(f"--phase {name!r}: no such phase in {recipe.path}; phases: {', '.join(phases) or 'none'}")
        phase = phases[name]
        plan = plan_phase(phase, build_index(manifest, phase.group_by, recipe.seed).tokens())
        requested = plan.requested()
        out.append(Blend(name=name, group_by=phase.group_by, num_tokens=phase.num_tokens, conditioning=phase.conditioning,
                         weights={g: n / phase.num_tokens for g, n in requested.items()}))
    return out


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
