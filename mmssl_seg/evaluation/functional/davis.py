"""DAVIS measures (Perazzi et al., CVPR 2016), defined as the official
evaluation code (davisvideochallenge/davis2017-evaluation, ``metrics.py``)
defines them: region similarity J and boundary accuracy F of a binary mask
against the ground truth.

J is the IoU of the masks (1 when both are empty). F is the F-measure of
boundary precision and recall. The boundary map is BSDS' ``seg2bmap``
(D. Martin, 2003): a pixel is a boundary pixel when its label differs from
its right, lower or lower-right neighbour; along the last row only the
right neighbour counts, along the last column only the lower one, and the
bottom-right pixel never is (the image border is no boundary, and the line
sits half a pixel towards the origin, on either side of the object edge).
A boundary pixel is matched when the other map has a boundary pixel within
a disk (``skimage.morphology.disk``) of radius ``ceil(0.008 x`` the image
diagonal``)``. Sequence scores average the frames other than the first
(given) and the last, as the DAVIS evaluation does.
"""
from __future__ import annotations

import math

import cv2
import numpy as np


def region_similarity(pred: np.ndarray, gt: np.ndarray) -> float:
    """J: intersection over union of two binary masks (1 when both empty)."""
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    union = np.logical_or(pred, gt).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(pred, gt).sum() / union)


def mask_boundary(mask: np.ndarray) -> np.ndarray:
    """The DAVIS / BSDS ``seg2bmap`` boundary map of a binary mask (see the
    module docstring)."""
    seg = np.asarray(mask, bool)
    differs = np.zeros_like(seg)
    # right, lower and lower-right neighbours where they exist (so the last
    # row compares rightwards only, the last column downwards only)
    differs[:, :-1] |= seg[:, :-1] != seg[:, 1:]
    differs[:-1, :] |= seg[:-1, :] != seg[1:, :]
    differs[:-1, :-1] |= seg[:-1, :-1] != seg[1:, 1:]
    return differs


def boundary_radius(shape: tuple[int, int], bound_th: float = 0.008) -> int:
    """The matching radius in pixels: ``bound_th`` pixels when >= 1, else
    ``ceil(bound_th x diagonal)``."""
    if bound_th >= 1:
        return int(bound_th)
    return int(math.ceil(bound_th * math.hypot(*shape)))


def boundary_f_measure(pred: np.ndarray, gt: np.ndarray,
                       bound_th: float = 0.008) -> float:
    """F: boundary F-measure with a tolerance of ``bound_th`` times the image
    diagonal (or ``bound_th`` pixels when it is >= 1)."""
    from skimage.morphology import disk
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if pred.shape != gt.shape:
        raise ValueError(f'masks differ in size: {pred.shape} vs {gt.shape}')
    pred_b, gt_b = mask_boundary(pred), mask_boundary(gt)
    n_pred, n_gt = int(pred_b.sum()), int(gt_b.sum())
    if n_pred == 0 and n_gt == 0:
        return 1.0
    if n_pred == 0 or n_gt == 0:  # precision or recall is 0
        return 0.0
    kernel = disk(boundary_radius(pred.shape, bound_th)).astype(np.uint8)
    gt_near = cv2.dilate(gt_b.astype(np.uint8), kernel).astype(bool)
    pred_near = cv2.dilate(pred_b.astype(np.uint8), kernel).astype(bool)
    precision = (pred_b & gt_near).sum() / n_pred
    recall = (gt_b & pred_near).sum() / n_gt
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))
