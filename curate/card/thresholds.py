"""The cuts a build applied, to draw on the card's histograms.

Pure function of the recipe's step tables (``{"use": name, **params}``, as in ``Recipe.to_table``)
and ``stats.json``'s ``global_steps``:

- ``length``: ``min_chars``/``max_chars`` on chars, ``min_words``/``max_words`` on words;
- ``lang_id``: ``min_score`` on ``lang_score``;
- ``score_filter``: ``min_score``/``max_score`` on its column;
- ``score_percentile``: each group's ``cut_score`` (the lowest or highest kept score);
- ``score_band``: each group's ``low_score`` and ``high_score`` (the kept band's ends).

Result: ``{histogram key: [(label, value), ...]}`` where the key is ``chars``, ``words``, ``tokens``
or a score column.
"""

from __future__ import annotations

from typing import Any

Cuts = dict[str, list[tuple[str, float]]]


def _add(out: Cuts, key: str, label: str, value: Any) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out.setdefault(key, []).append((label, float(value)))


def static_cuts(steps: list[dict[str, Any]]) -> Cuts:
    """Cuts fixed in the recipe (the steps' parameters)."""
    out: Cuts = {}
    for step in steps:
        use = step.get("use")
        if use == "length":
            for key, unit in (("min_chars", "chars"), ("max_chars", "chars"), ("min_words", "words"),
                              ("max_words", "words")):
                if step.get(key):
                    _add(out, unit, f"length.{key}", step[key])
        elif use == "lang_id":
            _add(out, "lang_score", "lang_id.min_score", step.get("min_score"))
        elif use == "score_filter":
            for key in ("min_score", "max_score"):
                _add(out, step["column"], f"score_filter.{key}", step.get(key))
    return out


def resolved_cuts(steps: list[dict[str, Any]], global_steps: dict[str, Any]) -> Cuts:
    """Cuts a global ranking step computed (``stats.json`` ``global_steps["<i>:<name>"]``)."""
    out: Cuts = {}
    for key, result in global_steps.items():
        index, _, name = key.partition(":")
        if name not in ("score_percentile", "score_band") or not index.isdigit() or int(index) >= len(steps):
            continue
        column = steps[int(index)].get("column")
        for group, g in (result.get("groups") or {}).items():
            if name == "score_percentile":
                _add(out, column, f"{name} cut ({group})", g.get("cut_score"))
            else:
                _add(out, column, f"{name} low ({group})", g.get("low_score"))
                _add(out, column, f"{name} high ({group})", g.get("high_score"))
    return out


def all_cuts(steps: list[dict[str, Any]], global_steps: dict[str, Any]) -> Cuts:
    out = static_cuts(steps)
    for key, cuts in resolved_cuts(steps, global_steps).items():
        out.setdefault(key, []).extend(cuts)
    return out
