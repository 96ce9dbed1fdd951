"""Binary-classifier metrics in numpy: ROC-AUC (rank statistic, ties averaged), precision, recall.

ROC-AUC equals the Mann-Whitney U statistic: the probability that a random positive scores above a
random negative, counting ties as one half. With average ranks ``r`` of all scores,
``AUC = (sum(r[positives]) - P (P + 1) / 2) / (P N)``; O(n log n), no sklearn.
"""

from __future__ import annotations

import numpy as np


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank (like scipy.stats.rankdata)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    first = np.r_[True, sorted_vals[1:] != sorted_vals[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(values)]
    avg = (starts + ends + 1) / 2.0  # mean of 1-based ranks starts+1 .. ends
    ranks = np.empty(len(values))
    ranks[order] = avg[group]
    return ranks


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for boolean ``labels`` (needs both classes)."""
    labels = np.asarray(labels, dtype=bool)
    num_pos, num_neg = int(labels.sum()), int((~labels).sum())
    if num_pos == 0 or num_neg == 0:
        raise ValueError("roc_auc needs at least one positive and one negative example")
    ranks = average_ranks(scores)
    return float((ranks[labels].sum() - num_pos * (num_pos + 1) / 2) / (num_pos * num_neg))


def precision_recall(labels: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[float, float]:
    """Precision and recall of predicting positive when ``score >= threshold`` (0 when undefined)."""
    labels = np.asarray(labels, dtype=bool)
    predicted = np.asarray(scores) >= threshold
    true_pos = int((predicted & labels).sum())
    precision = true_pos / int(predicted.sum()) if predicted.any() else 0.0
    recall = true_pos / int(labels.sum()) if labels.any() else 0.0
    return precision, recall
