"""Confusion matrices and the mappings from predicted segments (clusters,
auxiliary labels, retrieved labels) to ground-truth classes.

* Hungarian: one-to-one, maximising the number of agreeing pixels (IIC's
  evaluation, used by MaskContrast sec. 4.4 with K = number of classes).
* Majority: many-to-one, every cluster to the class it overlaps most
  (overclustering, MaskContrast Table 4).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def confusion_matrix(pred: np.ndarray, gt: np.ndarray, num_pred: int,
                     num_classes: int, ignore_index: int = 255) -> np.ndarray:
    """``C[p, c]`` = number of pixels predicted ``p`` with ground truth ``c``.

    Pixels whose ground truth is ``ignore_index`` are not counted; pixels
    whose prediction is outside ``[0, num_pred)`` (an ignored prediction) are
    counted in an extra last row, so column sums are the true class sizes.

    Returns:
        int64 array of shape ``(num_pred + 1, num_classes)``.
    """
    pred = np.asarray(pred, dtype=np.int64).ravel()
    gt = np.asarray(gt, dtype=np.int64).ravel()
    if pred.shape != gt.shape:
        raise ValueError(f'prediction has {pred.size} pixels, ground truth '
                         f'{gt.size}')
    valid = gt != ignore_index
    if np.any(gt[valid] >= num_classes) or np.any(gt[valid] < 0):
        raise ValueError(f'ground truth outside [0, {num_classes})')
    pred, gt = pred[valid], gt[valid]
    pred = np.where((pred >= 0) & (pred < num_pred), pred, num_pred)
    counts = np.bincount(pred * num_classes + gt,
                         minlength=(num_pred + 1) * num_classes)
    return counts.reshape(num_pred + 1, num_classes)


def hungarian_mapping(confusion: np.ndarray) -> np.ndarray:
    """One-to-one map from predicted ids to classes maximising agreement.

    Args:
        confusion: Output of :func:`confusion_matrix`, ``(K + 1, M)``; the
            last row (ignored predictions) is not matched.

    Returns:
        ``mapping[p]`` for ``p < K``: the class of predicted id ``p``, or -1
        when it is left unmatched (K > M).
    """
    rows, cols = linear_sum_assignment(confusion[:-1], maximize=True)
    mapping = np.full(confusion.shape[0] - 1, -1, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def majority_mapping(confusion: np.ndarray) -> np.ndarray:
    """Many-to-one map of the ``K`` predicted ids of a :func:`confusion_matrix`
    output: each to the class it overlaps most (ties to the lower class id;
    empty ids map to -1)."""
    segments = confusion[:-1]
    mapping = segments.argmax(axis=1).astype(np.int64)
    mapping[segments.sum(axis=1) == 0] = -1
    return mapping


def mapped_miou(confusion: np.ndarray,
                mapping: np.ndarray) -> tuple[float, np.ndarray]:
    """mIoU (in %) and per-class IoU after mapping predicted ids to classes.

    Args:
        confusion: Output of :func:`confusion_matrix`, ``(K + 1, M)``.
        mapping: Class of each of the K predicted ids, -1 for none.

    Ground-truth pixels whose prediction maps to no class (ignored or
    unmapped ids) still count in the union of their class. Classes absent
    from both prediction and ground truth are NaN and left out of the mean.
    """
    num_classes = confusion.shape[1]
    square = np.zeros((num_classes, num_classes), dtype=np.int64)
    for pred_id, cls in enumerate(mapping):
        if cls >= 0:
            square[cls] += confusion[pred_id]
    intersection = np.diag(square).astype(np.float64)
    union = square.sum(axis=1) + confusion.sum(axis=0) - intersection
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = np.where(union > 0, intersection / union, np.nan)
    return float(np.nanmean(iou) * 100), iou
