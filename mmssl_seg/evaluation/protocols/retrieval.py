"""Semantic segment retrieval (hierarchical-grouping paper sec. 5.2, as in
SegSort; MaskContrast Fig. 4 with saliency masks).

Each image is partitioned into segments: K-means (K = 15) on its own pixel
embeddings, or its salient object and background. A segment is described by
its mean embedding (L2-normalised). Train segments carry the majority ground
truth class of their pixels; each val segment takes the class of its nearest
train segment(s) (faiss, cosine), and the painted val images are scored with
mIoU. No label is used to build the embedding or the partition.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from mmssl_seg.evaluation.features import iterate_features, upsample_labels
from mmssl_seg.evaluation.functional import confusion_matrix, mapped_miou
from mmssl_seg.evaluation.protocols.clustering import (
    HeadSaliency,
    SaliencyMasks,
)
from mmssl_seg.utils.kmeans import assign, fit_kmeans, nearest_neighbours


def partition(feature: torch.Tensor, num_segments: int = 15, seed: int = 0,
              saliency: np.ndarray | None = None) -> np.ndarray:
    """Segment ids (``h x w``) of one image's ``C x h x w`` embedding."""
    h, w = feature.shape[1:]
    if saliency is not None:
        small = F.interpolate(torch.from_numpy(saliency)[None, None].float(),
                              size=(h, w), mode='area')[0, 0] >= 0.5
        return small.long().numpy()
    points = feature.flatten(1).T
    k = min(num_segments, len(points))
    return assign(points, fit_kmeans(points.numpy(), k, seed)).view(
        h, w).numpy()


def describe(feature: torch.Tensor, segments: np.ndarray) -> tuple[
        np.ndarray, np.ndarray]:
    """Ids present and their L2-normalised mean embeddings."""
    ids = np.unique(segments)
    flat = torch.from_numpy(segments).flatten()
    points = feature.flatten(1).T
    means = torch.stack([points[flat == i].mean(0) for i in ids])
    return ids, F.normalize(means, dim=1).numpy()


def _segments(model, dataset, kind, in_index, num_segments, saliency,
              description):
    for item in iterate_features(model, dataset, kind, in_index,
                                 description=description):
        mask = None if saliency is None else saliency.for_item(item)
        segments = partition(item.feature, num_segments, saliency=mask)
        ids, descriptors = describe(item.feature, segments)
        yield item, upsample_labels(segments, item.gt.shape), ids, descriptors


def segment_retrieval(model, train_dataset, val_dataset, num_classes: int,
                      num_segments: int = 15, neighbours: int = 1,
                      saliency: SaliencyMasks | HeadSaliency | None = None,
                      kind: str = 'backbone', in_index: int = -1,
                      ignore_index: int = 255) -> dict:
    """mIoU of val images painted with the classes of retrieved train
    segments.

    Args:
        num_segments: K of the per-image K-means partition.
        neighbours: Retrieved train segments per val segment; their classes
            vote (ties to the nearest).
        saliency: Partition into salient object and background instead.
    """
    bank, labels = [], []
    for item, segments, ids, descriptors in _segments(
            model, train_dataset, kind, in_index, num_segments, saliency,
            'retrieval: train bank'):
        for i, descriptor in zip(ids, descriptors):
            gt = item.gt[(segments == i) & (item.gt != ignore_index)]
            if gt.size:
                bank.append(descriptor)
                labels.append(np.bincount(gt).argmax())
    bank, labels = np.stack(bank), np.asarray(labels)

    confusion = 0
    for item, segments, ids, descriptors in _segments(
            model, val_dataset, kind, in_index, num_segments, saliency,
            'retrieval: val queries'):
        _, found = nearest_neighbours(bank, descriptors, neighbours)
        painted = np.zeros_like(segments)
        for i, row in zip(ids, found):
            votes = np.bincount(labels[row], minlength=num_classes)
            best = np.flatnonzero(votes == votes.max())
            painted[segments == i] = next(
                c for c in labels[row] if c in best)  # nearest among ties
        confusion = confusion + confusion_matrix(painted, item.gt,
                                                 num_classes, num_classes,
                                                 ignore_index)
    miou, iou = mapped_miou(confusion, np.arange(num_classes))
    return {'partition': 'saliency' if saliency else f'kmeans{num_segments}',
            'neighbours': neighbours, 'kind': kind,
            'bank_segments': int(len(bank)), 'mIoU': miou,
            'per_class_IoU': [None if np.isnan(v) else float(v * 100)
                              for v in iou]}

