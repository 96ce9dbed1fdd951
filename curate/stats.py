"""Run accounting: what each fragment read, kept, dropped (by step and reason) and quarantined.

Counts are plain dicts so they travel between processes and into ``stats.json``:

```
{"read": n, "quarantined": n, "bad_timestamps": n, "input_bytes": n, "kept": n,
 "steps": [{"name": "length", "in": n, "kept": n, "dropped": {"too_short_chars": n}, "counts": {}}, ...]}
```

``counts`` holds a step's own counters, summed like the rest: a batch step reports them through
int columns named ``_count:<name>`` (one value per row) that the runner sums and removes
(``curate/pipeline.py``), e.g. the ``pii`` step's replacements per kind.

The invariant, checked per source at the end of every build: read + generated = kept + dropped +
quarantined, where ``generated`` (the steps' ``generated``, present only for expander steps such
as ``rephrase``) counts the synthetic rows steps added; per step, in + generated = kept + dropped.
"""

from __future__ import annotations

from typing import Any

from curate.errors import FatalError


def new_counts(step_names: list[str]) -> dict[str, Any]:
    return {
        "read": 0,
        "quarantined": 0,
        "bad_timestamps": 0,
        "input_bytes": 0,
        "kept": 0,
        "steps": [{"name": n, "in": 0, "kept": 0, "dropped": {}, "counts": {}} for n in step_names],
    }


def add_counts(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Add ``part`` into ``total`` (same step list); returns ``total``."""
    for key in ("read", "quarantined", "bad_timestamps", "input_bytes", "kept"):
        total[key] += part[key]
    for t, p in zip(total["steps"], part["steps"]):
        t["in"] += p["in"]
        t["kept"] += p["kept"]
        if p.get("generated"):
            t["generated"] = t.get("generated", 0) + p["generated"]
        for reason, n in p["dropped"].items():
            t["dropped"][reason] = t["dropped"].get(reason, 0) + n
        for name, n in p.get("counts", {}).items():
            t.setdefault("counts", {})[name] = t.get("counts", {}).get(name, 0) + n
    return total


def num_dropped(counts: dict[str, Any]) -> int:
    return sum(sum(s["dropped"].values()) for s in counts["steps"])


def num_generated(counts: dict[str, Any]) -> int:
    return sum(s.get("generated", 0) for s in counts["steps"])


def check_accounting(by_source: dict[str, dict[str, Any]]) -> None:
    """Raise :class:`FatalError` unless read + generated = kept + dropped + quarantined for every source."""
    for source, c in by_source.items():
        dropped = num_dropped(c)
        generated = num_generated(c)
        if c["read"] + generated != c["kept"] + dropped + c["quarantined"]:
            raise FatalError(
                f"accounting broke for source '{source}': read {c['read']} + generated {generated} != kept "
                f"{c['kept']} + dropped {dropped} + quarantined {c['quarantined']}; please report this as a bug"
            )
        for i, s in enumerate(c["steps"]):
            if s["in"] + s.get("generated", 0) != s["kept"] + sum(s["dropped"].values()):
                raise FatalError(f"accounting broke in step {i} ({s['name']}) for source '{source}'")
