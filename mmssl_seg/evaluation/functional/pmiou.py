"""Proxy mean IoU (auxiliary-label paper, eq. 3): how well a label-map source
(auxiliary labels, saliency masks, cuts of a region hierarchy) could match the
ground truth if every segment took its best class.

    PmIoU(S, G) = 1 / max(K, M) * sum_j max_i |S_j n G_i| / |S_j u G_i|

S_j: pixels with source label j (over the whole evaluated set), G_i: pixels of
class i. We evaluate on the pixels with a valid ground truth; source pixels
that are ignored (e.g. the 5 % of auxiliary labels dropped for distance)
belong to no S_j but still to their G_i, so they lower its IoU.
"""
from __future__ import annotations

import numpy as np

from .matching import confusion_matrix


def pmiou_from_confusion(confusion: np.ndarray,
                         num_segments: int | None = None) -> float:
    """PmIoU (in %) from a ``(K [+1 ignored row], M)`` confusion matrix of
    :func:`~mmssl_seg.evaluation.functional.matching.confusion_matrix`.

    Args:
        confusion: Counts ``|S_j n G_i|``; its last row holds the ignored
            source pixels and is not a segment.
        num_segments: K. Default: the number of non-empty segments. Pass the
            labelling's nominal K to count empty segments as zero.
    """
    segments = confusion[:-1].astype(np.float64)
    num_classes = confusion.shape[1]
    sizes_s = segments.sum(axis=1, keepdims=True)
    sizes_g = confusion.sum(axis=0, keepdims=True).astype(np.float64)
    union = sizes_s + sizes_g - segments
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = np.where(union > 0, segments / union, 0.0)
    if num_segments is None:
        num_segments = int((sizes_s[:, 0] > 0).sum())
    denominator = max(num_segments, num_classes)
    return float(iou.max(axis=1).sum() / denominator * 100)


class PmIoUAccumulator:
    """Accumulates ``|S_j n G_i|`` over images, then gives PmIoU.

    Args:
        num_segments: K, the labels of the source are ``0..K-1``; anything
            else (255, -1) is an ignored source pixel.
        num_classes: M, the ground-truth classes ``0..M-1``.
        ignore_index: Ground-truth value that is not evaluated.
    """

    def __init__(self, num_segments: int, num_classes: int,
                 ignore_index: int = 255) -> None:
        self.num_segments = num_segments
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.confusion = np.zeros((num_segments + 1, num_classes), np.int64)

    def update(self, source: np.ndarray, gt: np.ndarray) -> None:
        if source.shape != gt.shape:
            raise ValueError(f'label map {source.shape} and ground truth '
                             f'{gt.shape} differ in size')
        self.confusion += confusion_matrix(source, gt, self.num_segments,
                                           self.num_classes, self.ignore_index)

    def compute(self, count_empty: bool = True) -> float:
        """PmIoU in %; ``count_empty`` keeps K nominal (empty segments score
        zero) rather than counting only the segments that occurred."""
        return pmiou_from_confusion(
            self.confusion, self.num_segments if count_empty else None)
