"""ShardWriter: row and byte limits hold inside a batch, rows stay in order, nothing is lost."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.writers import ShardWriter, rows_that_fit


def docs(sizes: list[int]) -> pa.RecordBatch:
    return pa.record_batch({"id": pa.array([str(i) for i in range(len(sizes))]),
                            "text": pa.array(["x" * n for n in sizes], pa.large_string())})


def write(tmp_path, batches, *, max_rows=10**6, max_bytes=10**9, row_group_rows=4):
    writer = ShardWriter(tmp_path, "part", max_shard_rows=max_rows, max_shard_bytes=max_bytes,
                         row_group_rows=row_group_rows, compression="none")
    for b in batches:
        writer.write(b)
    return [pq.read_table(tmp_path / s.path) for s in writer.close()]


def test_one_batch_larger_than_max_shard_bytes_is_split_into_shards(tmp_path):
    batch = docs([1000] * 50)
    per_row = batch.slice(0, 1).nbytes
    limit = 10 * per_row + per_row // 2  # room for 10 rows, not 11
    shards = write(tmp_path, [batch], max_bytes=limit)
    assert [s.num_rows for s in shards] == [10, 10, 10, 10, 10]
    assert [i for s in shards for i in s.column("id").to_pylist()] == [str(i) for i in range(50)]


def test_a_row_larger_than_a_shard_is_a_shard_by_itself(tmp_path):
    batch = docs([10, 10, 50_000, 10, 10])
    shards = write(tmp_path, [batch], max_bytes=2_000)
    assert [s.column("id").to_pylist() for s in shards] == [["0", "1"], ["2"], ["3", "4"]]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.integers(0, 3000), min_size=1, max_size=12), min_size=1, max_size=4),
       st.integers(1, 9), st.integers(1_000, 20_000))
def test_shards_partition_rows_in_order_within_both_limits(tmp_path_factory, sizes, max_rows, max_bytes):
    out = tmp_path_factory.mktemp("shards")
    batches = [docs(s) for s in sizes]
    shards = write(out, batches, max_rows=max_rows, max_bytes=max_bytes)
    all_rows = pa.Table.from_batches(batches).combine_chunks().to_batches()[0]
    texts = [t for s in shards for t in s.column("text").to_pylist()]
    assert texts == all_rows.column("text").to_pylist()
    start = 0
    for s in shards:
        n = s.num_rows
        assert 1 <= n <= max_rows
        assert n == 1 or all_rows.slice(start, n).nbytes <= max_bytes
        start += n


def test_rows_that_fit_is_the_largest_prefix_within_the_budget():
    batch = docs([100] * 20)
    one = batch.slice(0, 1).nbytes
    assert rows_that_fit(batch, 0, 20, 5 * one) == 5
    assert rows_that_fit(batch, 3, 20, 5 * one - 1) == 4
    assert rows_that_fit(batch, 0, 3, 10**9) == 3
    assert rows_that_fit(batch, 0, 20, one - 1) == 0
