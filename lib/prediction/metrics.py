"""The backtest metrics of a score against what happened, in numpy: one call per (method, year).

Definitions (those of scikit-learn and of fermi-cref's ``ValidationMetrics``, which the tests
check to 1e-12 on the same inputs):

- ``roc_auc``: area under the ROC curve = P(score of a positive > score of a negative), ties
  counted one half (Mann-Whitney U with mid-ranks; scikit-learn's trapezoids give the same);
- ``pr_auc``: average precision, sum_n (R_n - R_{n-1}) P_n over the distinct score thresholds
  in decreasing order (scikit-learn's ``average_precision_score``, no interpolation);
- ``best_f1``: the largest F1 = 2 P R / (P + R) over those thresholds;
- ``precision_at_k``: the share of positives among the k highest scores;
- ``map_at_k``: fermi-cref's definition: among the k highest scores, the mean of the average
  precision of the positives and that of the negatives (both ranked by the score, as
  ``average_precision_score(..., pos_label=0)`` does); 0 if none of the k is positive, 1 if all.

The top k of tied scores is decided by ``order``: scores in decreasing order, ties in the order
of the rows given (the Spark side sorts them by place and activity first, so it is
deterministic). The AUCs and best F1 are undefined (NaN) without both positives and negatives.
Must not: call scikit-learn (a test dependency here), or look at anything but the arrays given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _thresholds(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives above each distinct score, in decreasing score order."""
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]  # last row of each tie group
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    return tp.astype(np.float64), fp.astype(np.float64)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    labels = np.asarray(labels, dtype=np.int64)
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    tp, fp = _thresholds(labels, np.asarray(scores, dtype=np.float64))
    tpr = np.r_[0.0, tp] / positives
    fpr = np.r_[0.0, fp] / negatives
    return float(np.trapezoid(tpr, fpr))


def pr_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    labels = np.asarray(labels, dtype=np.int64)
    positives = int(labels.sum())
    if positives == 0 or positives == labels.size:
        return float("nan")
    tp, fp = _thresholds(labels, np.asarray(scores, dtype=np.float64))
    precision = tp / (tp + fp)
    recall = tp / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def best_f1(labels: np.ndarray, scores: np.ndarray) -> float:
    labels = np.asarray(labels, dtype=np.int64)
    positives = int(labels.sum())
    if positives == 0 or positives == labels.size:
        return float("nan")
    tp, fp = _thresholds(labels, np.asarray(scores, dtype=np.float64))
    precision, recall = tp / (tp + fp), tp / positives
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return float(f1.max())


def top_k(labels: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores of the k highest scores (ties: in the order given)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[:k]
    return np.asarray(labels, dtype=np.int64)[order], np.asarray(scores, dtype=np.float64)[order]


def precision_at_k(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    top, _ = top_k(labels, scores, k)
    return float(top.mean()) if top.size else float("nan")


def _average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    tp, fp = _thresholds(labels, scores)
    return float(np.sum(np.diff(np.r_[0.0, tp / tp[-1]]) * (tp / (tp + fp))))


def map_at_k(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    top, s = top_k(labels, scores, k)
    hits = int(top.sum())
    if top.size == 0:
        return float("nan")
    if hits == 0:
        return 0.0
    if hits == top.size:
        return 1.0
    return (_average_precision(top, s) + _average_precision(1 - top, s)) / 2


@dataclass(frozen=True)
class Backtest:
    candidates: int
    positives: int
    roc_auc: float
    pr_auc: float
    best_f1: float
    precision_at_k: float
    k: int
    map_at_k: float


def backtest(labels: np.ndarray, scores: np.ndarray, k: int) -> Backtest:
    """Every metric of one (method, year): ``labels`` 0/1, ``scores`` higher = more likely."""
    labels = np.asarray(labels, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    k = min(int(k), labels.size)
    return Backtest(
        candidates=int(labels.size),
        positives=int(labels.sum()),
        roc_auc=roc_auc(labels, scores),
        pr_auc=pr_auc(labels, scores),
        best_f1=best_f1(labels, scores),
        precision_at_k=precision_at_k(labels, scores, k),
        k=k,
        map_at_k=map_at_k(labels, scores, k),
    )
