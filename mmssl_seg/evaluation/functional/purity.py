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


def tree_pair_agreement(leaves: np.ndarray, distances: np.ndarray,
                        labels: np.ndarray, num_pairs: int = 1000,
                        sigma: float = 0.8, seed: int = 0,
                        ignore_index: int = 255) -> np.ndarray:
    """What hierarchical grouping's pairs say about the classes: pixel pairs
    drawn from a region tree as the method draws them (eqs. 2-3,
    :func:`~mmssl_seg.models.utils.sample_tree_pairs`), counted against the
    ground truth. Leaf purity misses what the tree's upper levels add; this
    reads them the way the loss does.

    Args:
        leaves: ``H x W`` leaf of every pixel.
        distances: ``k x k`` d_T between leaves.
        labels: ``H x W`` class of every pixel.
        num_pairs: Anchors drawn (each with one positive and one negative).

    Returns:
        ``[positives of one class, positives counted, negatives of two
        classes, negatives counted]`` (pairs touching an ignored pixel, and
        anchors without a negative, are not counted).
    """
    # imported here: the other measures of this package need numpy only
    import torch

    from mmssl_seg.models.utils import sample_tree_pairs
    regions = torch.as_tensor(np.asarray(leaves, np.int64))[None]
    dist = torch.as_tensor(np.asarray(distances, np.float32))[None]
    flat = np.asarray(labels, np.int64).ravel()
    generator = torch.Generator().manual_seed(seed)
    counts = np.zeros(4, np.int64)
    for _ in range(num_pairs // dist.shape[1] + 1):
        pairs = sample_tree_pairs(regions, dist, dist.shape[1], 1, 1, sigma,
                                  generator=generator)
        a = flat[pairs.anchors[pairs.valid].numpy()]
        for column, other in ((0, pairs.positives), (2, pairs.negatives)):
            b = flat[other[pairs.valid, 0].numpy()]
            keep = (a != ignore_index) & (b != ignore_index)
            same = (a == b)[keep]
            counts[column] += same.sum() if column == 0 else (~same).sum()
            counts[column + 1] += keep.sum()
    return counts
