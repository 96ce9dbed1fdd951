"""Skills-graph files: JSON matrix / edges / rectangular, .npy, and errors naming the problem."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from curate.errors import RecipeError
from mixers.graph import load_graph


def _write(tmp_path, data, name="g.json"):
    path = tmp_path / name
    path.write_bytes(orjson.dumps(data))
    return path


def test_json_matrix_negative_entries_become_zero(tmp_path):
    g = load_graph(_write(tmp_path, {"skills": ["a", "b"], "matrix": [[1, -0.2], [0.3, 1]]}), ["a", "b", "c"])
    assert g.train_skills == g.eval_skills == ("a", "b")
    assert g.matrix.tolist() == [[1.0, 0.0], [0.3, 1.0]]


def test_json_edges_fill_a_matrix_with_unit_diagonal(tmp_path):
    g = load_graph(_write(tmp_path, {"skills": ["a", "b", "c"], "edges": [["a", "c", 0.5]]}), ["a", "b", "c"])
    assert g.matrix.tolist() == [[1, 0, 0.5], [0, 1, 0], [0, 0, 1]]


def test_rectangular_graph_for_out_of_domain_eval(tmp_path):
    g = load_graph(_write(tmp_path, {"train_skills": ["a", "b"], "eval_skills": ["target"],
                                     "matrix": [[0.2], [0.7]]}), ["a", "b"])
    assert g.matrix.shape == (2, 1) and g.eval_skills == ("target",)


def test_npy_graph_uses_sorted_group_names(tmp_path):
    path = tmp_path / "g.npy"
    np.save(path, np.array([[1.0, 0.5], [0.0, 1.0]]))
    g = load_graph(path, ["web", "code"])
    assert g.train_skills == ("code", "web") and g.matrix[0, 1] == 0.5


def test_graph_errors_name_the_problem(tmp_path):
    with pytest.raises(RecipeError, match="'math' is not a group"):
        load_graph(_write(tmp_path, {"skills": ["math"], "matrix": [[1]]}), ["web"])
    with pytest.raises(RecipeError, match=r"shape \(1, 2\), expected \(2, 2\)"):
        load_graph(_write(tmp_path, {"skills": ["a", "b"], "matrix": [[1, 0]]}), ["a", "b"])
    with pytest.raises(RecipeError, match="unknown skill"):
        load_graph(_write(tmp_path, {"skills": ["a"], "edges": [["a", "z", 1]]}), ["a"])
