"""Vectorised timestamp parsing into ``timestamp[us, UTC]``; values that parse nowhere become null.

Accepted, tried in this order (each pass only fills rows still null):
ISO 8601 with offset or ``Z`` (fractional seconds dropped), ISO without offset (taken as UTC),
``YYYY-MM-DD HH:MM[:SS]``, ``YYYY-MM-DD``, ``YYYY/MM/DD[ HH:MM:SS]``, RFC 1123 / HTTP dates
(``Sun, 29 Mar 2020 09:04:10 GMT``; ``GMT``/``UTC`` suffixes mean +0000), RFC 2822 without weekday,
RFC 850 (``Sunday, 29-Mar-20 09:04:10 GMT``), C ``asctime`` (``Sun Mar 29 09:04:10 2020``),
``March 29, 2020`` / ``Mar 29, 2020``, WARC-style compact ``YYYYMMDDHHMMSS``, ``YYYY-MM`` (first of
the month), a bare 4-digit year (1 January; also for numbers 1000-9999, which as epoch seconds
would all fall in 1970), and Unix epochs (numbers or digit strings: seconds below 1e11,
milliseconds below 1e14, else microseconds; NaN, infinities and epochs outside years 1-9999 do
not parse). Nested values (JSON objects or lists, Arrow struct/list/map columns) never parse: they
become null and are counted as unparseable, like any other bad value.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from curate.schema import TIMESTAMP_TYPE

_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%a, %d %b %Y %H:%M:%S %z",
    "%d %b %Y %H:%M:%S %z",
    "%A, %d-%b-%y %H:%M:%S %z",
    "%a %b %d %H:%M:%S %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%Y%m%d%H%M%S",
    "%Y-%m",
)


_MAX_MICROS = 253_402_300_799 * 10**6  # 9999-12-31T23:59:59 UTC in microseconds
_MIN_MICROS = -62_135_596_800 * 10**6  # 0001-01-01T00:00:00 UTC


def _epoch(values: pa.Array) -> pa.Array:
    """Numbers to UTC timestamps, unit chosen by magnitude; non-finite or out-of-range -> null."""
    v = pc.cast(values, pa.float64())
    v = pc.if_else(pc.is_finite(v), v, pa.scalar(None, pa.float64()))
    scale = pc.if_else(
        pc.less(pc.abs(v), 1e11), 1e6, pc.if_else(pc.less(pc.abs(v), 1e14), 1e3, 1.0)
    )
    scaled = pc.round(pc.multiply(v, scale))
    in_range = pc.and_(pc.greater_equal(scaled, float(_MIN_MICROS)), pc.less_equal(scaled, float(_MAX_MICROS)))
    scaled = pc.if_else(in_range, scaled, pa.scalar(None, pa.float64()))
    micros = pc.cast(scaled, pa.int64(), safe=False)
    epoch = pc.cast(micros, TIMESTAMP_TYPE)
    is_year = pc.and_(pc.greater_equal(v, 1000), pc.and_(pc.less(v, 10000), pc.equal(pc.floor(v), v)))
    if not pc.any(is_year).as_py():
        return epoch
    years = pc.if_else(is_year, pc.cast(pc.cast(v, pa.int64(), safe=False), pa.string()),
                       pa.scalar(None, pa.string()))
    parsed = pc.strptime(years, format="%Y", unit="us", error_is_null=True)
    return pc.if_else(is_year, pc.cast(pc.assume_timezone(parsed, "UTC"), TIMESTAMP_TYPE), epoch)


def parse_timestamps(values: pa.Array) -> tuple[pa.Array, int]:
    """Parse ``values`` (strings, numbers or timestamps); return the array and the number of
    non-null inputs that could not be parsed."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type
    if pa.types.is_null(t):
        return pa.nulls(len(values), TIMESTAMP_TYPE), 0
    if pa.types.is_timestamp(t):
        out = values if t.tz else pc.assume_timezone(values, "UTC")
        return pc.cast(out, TIMESTAMP_TYPE, safe=False), 0  # ns -> us truncates
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        out = _epoch(values)
        return out, _unparsed(values, out)
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        try:
            values = pc.cast(values, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # nested, or binary that is not UTF-8
            return pa.nulls(len(values), TIMESTAMP_TYPE), len(values) - values.null_count
    text = pc.utf8_trim_whitespace(values)
    text = pc.replace_substring_regex(text, r"(\d{2}:\d{2}:\d{2})\.\d+", r"\1")
    text = pc.replace_substring_regex(text, r"Z$", "+0000")
    text = pc.replace_substring_regex(text, r" (GMT|UTC)$", " +0000")
    text = pc.replace_substring_regex(text, r"([+-]\d{2}):(\d{2})$", r"\1\2")
    out = pa.nulls(len(values), TIMESTAMP_TYPE)
    for fmt in _FORMATS:
        todo = pc.and_(pc.is_null(out), pc.is_valid(text))
        if not pc.any(todo).as_py():
            break
        parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
        if parsed.type.tz is None:
            parsed = pc.assume_timezone(parsed, "UTC")
        out = pc.coalesce(out, pc.cast(parsed, TIMESTAMP_TYPE))
    digits = pc.and_(pc.is_null(out), pc.match_substring_regex(text, r"^-?\d+(\.\d+)?$"))
    if pc.any(digits).as_py():
        nums = pc.if_else(digits, text, pa.scalar(None, pa.string()))
        out = pc.coalesce(out, _epoch(pc.cast(nums, pa.float64())))
    return out, _unparsed(values, out)


def _unparsed(values: pa.Array, out: pa.Array) -> int:
    """How many non-null inputs came out null."""
    return int(pc.sum(pc.and_(pc.is_valid(values), pc.is_null(out))).as_py() or 0)
