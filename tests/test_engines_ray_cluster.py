"""A Ray cluster of one node and one of two nodes (``ray.cluster_utils.Cluster``: real raylets on
this machine) build the same bytes as the local pool, joined with ``--ray-address``'s code path."""

from __future__ import annotations

import pytest

from curate.engines.local import LocalEngine
from curate.recipe import load_recipe
from engine_helpers import build_digests, planted_corpus

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": 100 * 2**20})
    yield c
    ray.shutdown()
    c.shutdown()


def test_one_and_two_node_clusters_build_the_local_bytes(cluster, tmp_path, monkeypatch):
    from curate.engines.ray import RayEngine
    import curate.engines.shuffle as shuffle

    monkeypatch.setattr(shuffle, "RANGE_DOCS", 97)  # several ranges: CC tasks spread over nodes
    recipe = load_recipe(planted_corpus(tmp_path / "data", num_files=4))
    local = build_digests(recipe, LocalEngine(1))
    results = []
    for num_nodes in (1, 2):
        if num_nodes == 2:
            cluster.add_node(num_cpus=1, object_store_memory=100 * 2**20)
            cluster.wait_for_nodes()
        engine = RayEngine(1, cluster.address)
        try:
            assert engine.num_workers == num_nodes and len(ray.nodes()) == num_nodes
            results.append(build_digests(recipe, engine))
        finally:
            engine.close()
    assert results[0] == local and results[1] == local
