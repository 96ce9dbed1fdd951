"""curate card DIR: write DIR/README.md (Hugging Face dataset card), DIR/card.html and their plots.

The recipe (``--recipe``, default the one in the manifest) gives the thresholds drawn on the
histograms and the ``[[phases]]`` whose plan (mixers) the card shows; without it the card still
has everything computed from the shards, rejected/ and stats.json. For a materialised mix
(``curate mix DIR --phase P``) the plan is made against the build it came from, and the funnel is
that build's.
"""

from __future__ import annotations

from pathlib import Path

from curate.commands.sections import add_set_argument, load_full_recipe
from curate.errors import CurateError

HELP = "write a build's dataset card: README.md (Hugging Face card), card.html and PNG plots"


def add_arguments(p) -> None:
    p.add_argument("dir", type=Path, help="output dir of a finished build, or of `curate mix DIR --phase P`")
    p.add_argument("--recipe", type=Path, help="recipe for thresholds and [[phases]] (default: the build's)")
    p.add_argument("--license", default="unknown", help="license field of the card (an SPDX id, e.g. odc-by)")
    p.add_argument("--readback-mb", type=float, default=256.0, help="read sampled dropped documents' text "
                   "back from the inputs while the input files read stay under this size (0: ids and lineage only)")
    add_set_argument(p)


def _phase_plans(recipe, build_root: Path, only: str | None, realised: dict | None) -> list[dict]:
    from curate.manifest import Manifest
    from mixers.index import build_index
    from mixers.plan import plan_phase, plan_rows

    phases = [p for p in (recipe.section("phases") or []) if only is None or p.name == only]
    if not phases:
        return []
    build = Manifest.load(build_root)
    indexes, out = {}, []
    for phase in phases:
        if phase.group_by not in indexes:
            indexes[phase.group_by] = build_index(build, phase.group_by, recipe.seed, 0.0)
        rows = plan_rows(plan_phase(phase, indexes[phase.group_by].tokens()))
        for r in rows:
            r.pop("cap", None)
            if realised is not None:
                r["realised"] = int((realised.get(r["group"]) or {}).get("num_tokens") or 0)
        out.append({"phase": phase.name, "num_tokens": phase.num_tokens, "strategy": phase.mixture.strategy,
                    "group_by": phase.group_by, "groups": rows})
    return out


def run(args) -> int:
    from curate.card.write import make_card
    from curate.manifest import Manifest

    manifest = Manifest.load(args.dir)
    mix = manifest.mix
    build_root = Path(mix["from"]) if mix and mix.get("from") else manifest.root
    recipe_path = args.recipe or Path(manifest.recipe.path)
    if args.readback_mb < 0:
        raise CurateError(f"--readback-mb={args.readback_mb} is out of range; allowed: >= 0")
    steps, phases, languages, notes, inputs = [], [], [], [], None
    if recipe_path.is_file():
        recipe = load_full_recipe(recipe_path, args.overrides)
        if recipe.fingerprint() != manifest.fingerprint:
            notes.append(f"The recipe {recipe_path} differs from the one this build ran (fingerprint "
                         f"{recipe.fingerprint()[:12]} vs {manifest.fingerprint[:12]}); thresholds and phases "
                         "are read from the file as it is now.")
        steps = recipe.to_table()["steps"]
        inputs = (recipe.path.parent, {s.name: s for s in recipe.sources})
        languages = [lang for s in steps if s["use"] == "lang_id" for lang in s.get("languages", [])]
        try:
            phases = _phase_plans(recipe, build_root, (mix or {}).get("phase", {}).get("name"),
                                  mix.get("groups") if mix else None)
        except CurateError as exc:
            notes.append(f"No phase plan: {exc}")
    elif args.recipe:
        raise CurateError(f"--recipe {args.recipe}: no such file")
    else:
        notes.append(f"The build's recipe {recipe_path} is not reachable: no thresholds or phase plan "
                     "(pass --recipe RECIPE).")
    written = make_card(manifest.root, steps=steps, phases=phases, license=args.license, languages=languages,
                        notes=notes, stats_from=build_root if mix else None, inputs=inputs,
                        readback_bytes=int(args.readback_mb * 2**20))
    print(f"wrote {written[0]}, {written[1]} and {len(written) - 2} plots in {written[0].parent / 'card_plots'}")
    return 0
