"""A Ray cluster of one node and one of two nodes (``ray.cluster_utils.Cluster``: real raylets on
this machine) build the same bytes as the local pool, joined with ``--ray-address``'s code path;
and a 2-node build whose output is on S3 (the moto server of tests/s3_server.py) keeps every
scratch file of its global steps (shuffles, phase markers) in the bucket, and gives the same bytes."""

from __future__ import annotations

import pytest

from curate.engines.local import LocalEngine
from curate.recipe import load_recipe
from engine_helpers import build_digests, planted_corpus
from tests.s3_server import bucket, s3_endpoint, tree_digests  # noqa: F401

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster(s3_endpoint):  # noqa: F811  (raylets start with the S3 environment, as a real cluster's nodes would)
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": 100 * 2**20})
    yield c
    ray.shutdown()
    c.shutdown()


class Watched:
    """An engine that, after each ``map``, lists what lies under ``root/work`` (the build's scratch)."""

    def __init__(self, engine, root):
        self.engine, self.root, self.seen = engine, root, set()
        self.name, self.num_workers = engine.name, engine.num_workers

    def map(self, fn, items, progress=None, label=None, isolate=False):
        out = self.engine.map(fn, items, progress=progress, label=label, isolate=isolate)
        self.seen |= {p.relative_to(self.root) for p in (self.root / "work").glob("**/*")}
        return out

    def warm(self, hook):
        self.engine.warm(hook)

    def describe(self):
        return self.engine.describe()

    def close(self):
        self.engine.close()


def test_one_and_two_node_clusters_build_the_local_bytes_on_disk_and_on_s3(cluster, tmp_path, monkeypatch,
                                                                          bucket):  # noqa: F811
    """1 node and 2 nodes give the local pool's bytes; on 2 nodes with the output on S3 too, and
    every scratch file of the global steps (shuffle partitions, phase markers) is an object in the
    bucket while the build runs (none is on a node's local disk)."""
    import dataclasses

    from curate.build import build
    from curate.engines.ray import RayEngine
    from curate.storage import location
    import curate.engines.shuffle as shuffle

    monkeypatch.setattr(shuffle, "RANGE_DOCS", 97)  # several ranges: CC tasks spread over nodes
    recipe = load_recipe(planted_corpus(tmp_path / "data", num_files=4))
    local = build_digests(recipe, LocalEngine(1))
    results = []
    root = location(f"s3://{bucket}/out")
    for num_nodes in (1, 2):
        if num_nodes == 2:
            cluster.add_node(num_cpus=1, object_store_memory=100 * 2**20)
            cluster.wait_for_nodes()
        engine = RayEngine(1, cluster.address)
        try:
            assert engine.num_workers == num_nodes and len(ray.nodes()) == num_nodes
            results.append(build_digests(recipe, engine))
            if num_nodes == 2:
                watched = Watched(engine, root)
                build(dataclasses.replace(recipe, output=dataclasses.replace(recipe.output, dir=root)),
                      engine=watched)
        finally:
            engine.close()
    assert results[0] == local and results[1] == local
    assert tree_digests(root) == tree_digests(recipe.output.dir)
    seen = {str(p) for p in watched.seen}
    assert any(p.startswith("work/scratch0/exact_groups/p") for p in seen)  # stage 0 ends in exact_dedup
    assert any(p.startswith("work/scratch1/cc2/p") for p in seen) and "work/scratch1/edges.done.json" in seen
    assert not (root / "work").exists()  # removed once the build is complete, as on disk
