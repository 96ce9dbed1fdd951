"""Terminal text of one document (its columns, then its text) and of a pair side by side.

Columns print one per line in file order, ``text`` last; a list column prints as its length and
first items (``tokens: 412 items [31, 7, ...]``), a long value is cut at ``max_chars`` with the
number of characters left out. The side-by-side view diffs the two texts line by line with
``difflib.SequenceMatcher`` (no junk heuristic) and wraps each line to half the width; the middle
marker says what the row is: ``' '`` equal, ``'|'`` changed, ``'<'`` only left, ``'>'`` only right.
Equal lines further than ``context`` lines from a difference are collapsed to one line saying how many
(identical texts are shown whole).
"""

from __future__ import annotations

import difflib
import textwrap
from typing import Any

LIST_ITEMS = 8
HIDDEN = {"text", "id"}


def _value(v: Any, max_chars: int) -> str:
    if isinstance(v, list):
        head = ", ".join(str(x) for x in v[:LIST_ITEMS])
        return f"{len(v)} items [{head}{', ...' if len(v) > LIST_ITEMS else ''}]"
    if isinstance(v, float):
        return f"{v:.6g}"
    return cut(str(v), max_chars) if v is not None else "null"


def cut(s: str, max_chars: int) -> str:
    if max_chars and len(s) > max_chars:
        return s[:max_chars] + f" [... {len(s) - max_chars:,} more chars]"
    return s


def column_lines(values: dict[str, Any], max_chars: int = 300) -> list[str]:
    width = max((len(k) for k in values if k not in HIDDEN), default=0)
    return [f"  {k:<{width}}  {_value(v, max_chars)}" for k, v in values.items() if k not in HIDDEN]


def text_lines(text: str | None, max_chars: int, note: str = "") -> list[str]:
    if text is None:
        return [f"--- text: not available: {note}" if note else "--- text: not available"]
    head = f"--- text ({len(text):,} chars{'; ' + note if note else ''})"
    return [head, cut(text, max_chars)]


def side_by_side(left: str, right: str, width: int, context: int = 2) -> list[str]:
    """The two texts in two columns of ``(width - 3) // 2`` characters, differing lines marked."""
    half = max(10, (width - 3) // 2)
    a, b = left.splitlines(), right.splitlines()
    out: list[str] = []
    codes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(codes):
        if tag == "equal":
            span = list(range(i2 - i1))
            head = context if n > 0 else 0  # lines after the previous difference
            tail = context if n < len(codes) - 1 else 0  # lines before the next one
            if len(codes) > 1 and len(span) > head + tail + 1:
                shown = span[:head] + [-1] + (span[-tail:] if tail else [])
            else:
                shown = span
            for k in shown:
                if k < 0:
                    out.append(f"{'':{half}}   ... {len(span) - head - tail} equal lines ...")
                else:
                    out += _pair(a[i1 + k], b[j1 + k], " ", half)
            continue
        marker = {"replace": "|", "delete": "<", "insert": ">"}[tag]
        la, lb = a[i1:i2], b[j1:j2]
        for k in range(max(len(la), len(lb))):
            out += _pair(la[k] if k < len(la) else None, lb[k] if k < len(lb) else None, marker, half)
    return out


def _wrap(line: str | None, half: int) -> list[str]:
    if line is None:
        return []
    return textwrap.wrap(line, half, replace_whitespace=False) or [""]


def _pair(left: str | None, right: str | None, marker: str, half: int) -> list[str]:
    la, lb = _wrap(left, half), _wrap(right, half)
    rows = []
    for k in range(max(len(la), len(lb))):
        l = la[k] if k < len(la) else ""
        r = lb[k] if k < len(lb) else ""
        rows.append(f"{l:<{half}} {marker} {r}".rstrip())
    return rows


def similarity(left: str, right: str) -> tuple[float, int, int]:
    """(difflib ratio over lines, lines that differ on the left, on the right)."""
    a, b = left.splitlines(), right.splitlines()
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    same = sum(size for _, _, size in m.get_matching_blocks())
    return m.ratio(), len(a) - same, len(b) - same
