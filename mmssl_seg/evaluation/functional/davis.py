"""DAVIS measures (Perazzi et al., CVPR 2016): region similarity J and
boundary accuracy F of a binary mask against the ground truth.

J is the IoU of the masks. F is the F-measure of boundary precision and
recall, where a boundary pixel counts as matched when one of the other mask's
boundary pixels lies within a tolerance of ``0.008`` times the image diagonal
(DAVIS' default), as in the BSDS boundary benchmark (Martin et al.). A
boundary pixel is a mask pixel with a 4-neighbour outside the mask; the image
border is not a boundary. Sequence scores average the frames other than the
first (given) and the last, as the DAVIS evaluation does.
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
    """Pixels of ``mask`` with a 4-neighbour outside it (inside the image)."""
    mask = np.asarray(mask, bool)
    padded = np.pad(mask, 1, mode='edge')
    inner = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2]
             & padded[1:-1, 2:])
    return mask & ~inner


def boundary_f_measure(pred: np.ndarray, gt: np.ndarray,
                       bound_th: float = 0.008) -> float:
    """F: boundary F-measure with a tolerance of ``bound_th`` times the image
    diagonal (or ``bound_th`` pixels when it is >= 1)."""
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if pred.shape != gt.shape:
        raise ValueError(f'masks differ in size: {pred.shape} vs {gt.shape}')
    radius = int(bound_th if bound_th >= 1 else math.ceil(
        bound_th * math.hypot(*pred.shape)))
    pred_b, gt_b = mask_boundary(pred), mask_boundary(gt)
    if not pred_b.any() and not gt_b.any():
        return 1.0
    if not pred_b.any() or not gt_b.any():
        return 0.0
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                     (2 * radius + 1, 2 * radius + 1))
    gt_near = cv2.dilate(gt_b.astype(np.uint8), disk).astype(bool)
    pred_near = cv2.dilate(pred_b.astype(np.uint8), disk).astype(bool)
    precision = (pred_b & gt_near).sum() / pred_b.sum()
    recall = (gt_b & pred_near).sum() / gt_b.sum()
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))
