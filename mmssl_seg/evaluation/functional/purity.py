"""How well a prior's regions agree with the ground truth: the share of
pixels whose region's majority class is their own class (the purity of a
clustering). A negative control is only a control if its prior agrees less
than the real one; a fixed grid gives what position alone says."""
from __future__ import annotations

import numpy as np


def region_purity(segments: np.ndarray, labels: np.ndarray,
                  ignore_index: int = 255) -> tuple[int, int]:
    """Pixels whose segment's majority label is their own, and the pixels
    counted (labelled ones in a segment, i.e. ``segments >= 0``).

    Args:
        segments: ``H x W`` region index of every pixel (negative: none).
        labels: ``H x W`` class of every pixel; ``ignore_index`` is skipped.
    """
    segments = np.asarray(segments, dtype=np.int64).ravel()
    labels = np.asarray(labels, dtype=np.int64).ravel()
    if segments.shape != labels.shape:
        raise ValueError(f'segments {segments.shape} and labels '
                         f'{labels.shape} differ in size')
    keep = (labels != ignore_index) & (segments >= 0)
    segments, labels = segments[keep], labels[keep]
    if not len(labels):
        return 0, 0
    _, segments = np.unique(segments, return_inverse=True)
    _, labels = np.unique(labels, return_inverse=True)
    counts = np.zeros((segments.max() + 1, labels.max() + 1), np.int64)
    np.add.at(counts, (segments, labels), 1)
    return int(counts.max(1).sum()), int(len(labels))


def grid_segments(height: int, width: int, cells: int) -> np.ndarray:
    """A ``cells x cells`` grid of equal blocks: regions from position
    alone."""
    rows = np.arange(height)[:, None] * cells // height
    cols = np.arange(width)[None, :] * cells // width
    return rows * cells + cols
