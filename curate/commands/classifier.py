"""curate classifier train RECIPE: train the recipe's [classifier] fastText model, print metrics."""

from __future__ import annotations

from pathlib import Path

from curate.commands.sections import add_set_argument

HELP = "train a fastText classifier on labelled recipe sources; print precision, recall, ROC-AUC"


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    train = sub.add_parser("train", help="train on the [classifier] sources, evaluate held-out docs")
    train.add_argument("recipe", type=Path, help="recipe TOML file with a [classifier] section")
    add_set_argument(train)


def run(args) -> int:
    from curate.errors import RecipeError
    from curate.models.classifier import train_classifier
    from curate.commands.sections import load_full_recipe

    recipe = load_full_recipe(args.recipe, args.overrides)
    spec = recipe.section("classifier")
    if spec is None:
        raise RecipeError(f"{args.recipe}: no [classifier] section")
    r = train_classifier(recipe, spec)
    print(f"trained on {r['num_train']} docs ({r['num_train_positive']} positive), "
          f"held out {r['num_heldout']} ({r['num_heldout_positive']} positive), seed {r['seed']}")
    print(f"precision {r['precision']:.4f}  recall {r['recall']:.4f}  (P({r['labels']['positive']}) >= "
          f"{r['threshold']})  ROC-AUC {r['roc_auc']:.4f}")
    print(f"model: {r['model_path']}  (metrics: {r['model_path']}.json)")
    return 0
