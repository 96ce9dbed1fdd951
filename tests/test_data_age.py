"""Timestamp formats (parse or counted as bad), the year column and the date_range filter."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from curate.errors import RecipeError
from curate.config import from_table
from curate.steps.data_age import DateRange, Year
from curate.timestamps import parse_timestamps

UTC = dt.timezone.utc
CASES = [
    ("2020-03-29T09:04:10Z", dt.datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)),
    ("2020-03-29T09:04:10.5+02:00", dt.datetime(2020, 3, 29, 7, 4, 10, tzinfo=UTC)),
    ("2020-03-29T09:04", dt.datetime(2020, 3, 29, 9, 4, tzinfo=UTC)),
    ("2020-03-29 09:04", dt.datetime(2020, 3, 29, 9, 4, tzinfo=UTC)),
    ("2020/03/29", dt.datetime(2020, 3, 29, tzinfo=UTC)),
    ("2020/03/29 09:04:10", dt.datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)),
    ("Sun, 29 Mar 2020 09:04:10 GMT", dt.datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)),
    ("Sun, 29 Mar 2020 09:04:10 UTC", dt.datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)),
    ("29 Mar 2020 11:04:10 +0200", dt.datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)),
    ("Sunday, 29-Mar-20 09:04:10 GMT", dt.datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)),
    ("Sun Mar 29 09:04:10 2020", dt.datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)),
    ("March 29, 2020", dt.datetime(2020, 3, 29, tzinfo=UTC)),
    ("Mar 29, 2020", dt.datetime(2020, 3, 29, tzinfo=UTC)),
    ("20200329090410", dt.datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)),
    ("1585472650", dt.datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)),
    ("2020-03", dt.datetime(2020, 3, 1, tzinfo=UTC)),
    ("2020", dt.datetime(2020, 1, 1, tzinfo=UTC)),
]
BAD = ["not a date", "2020-13-45", "2020-03-29 garbage", "Mar 2020 maybe", ""]


def test_common_formats_parse() -> None:
    out, bad = parse_timestamps(pa.array([v for v, _ in CASES]))
    assert out.to_pylist() == [want for _, want in CASES]
    assert bad == 0


def test_bad_values_are_null_and_counted() -> None:
    out, bad = parse_timestamps(pa.array(BAD + [None, "2019-01-01"]))
    assert out.to_pylist()[:-1] == [None] * (len(BAD) + 1)
    assert out.to_pylist()[-1] == dt.datetime(2019, 1, 1, tzinfo=UTC)
    assert bad == len(BAD)  # the null input is missing, not bad


def test_numbers_four_digits_are_years_others_epochs() -> None:
    out, bad = parse_timestamps(pa.array([2021, 1585472650, 1585472650123]))
    assert [t.year for t in out.to_pylist()] == [2021, 2020, 2020]
    assert out.to_pylist()[0] == dt.datetime(2021, 1, 1, tzinfo=UTC) and bad == 0


def _batch(values: list[str | None]) -> pa.RecordBatch:
    ts, _ = parse_timestamps(pa.array(values, pa.string()))
    return pa.RecordBatch.from_arrays([ts], names=["timestamp"])


def test_year_column() -> None:
    out = Year().annotate(_batch(["2018-05-01", None, "Sun, 29 Mar 2020 09:04:10 GMT"]))
    assert out.column("year").to_pylist() == [2018, None, 2020]
    assert out.schema.field("year").type == pa.int16()


def test_date_range_bounds_and_missing() -> None:
    batch = _batch(["2018-12-31T23:59:59Z", "2019-01-01", None, "2020-12-31", "2021-01-01"])
    keep_missing = DateRange(min_date="2019-01-01", max_date="2021-01-01")
    assert keep_missing.reject(batch).cast(pa.string()).to_pylist() == ["too_old", None, None, None, "too_new"]
    drop_missing = DateRange(min_date="2019", missing="drop")
    assert drop_missing.reject(batch).cast(pa.string()).to_pylist() == ["too_old", None, "no_timestamp", None, None]


def test_date_range_rejects_bad_bounds() -> None:
    with pytest.raises(RecipeError, match="min_date"):
        from_table(DateRange, {"min_date": "yesterday"}, "steps[0]")
    with pytest.raises(RecipeError, match="before"):
        from_table(DateRange, {"min_date": "2021", "max_date": "2020"}, "steps[0]")
