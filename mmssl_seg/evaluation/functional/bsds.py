"""The BSDS500 benchmark for hierarchical segmentations (Arbelaez et al.,
TPAMI 2011, sec. 3): boundary precision/recall against every annotator with
one-to-one pixel matching within 0.0075 of the image diagonal, summarised as
ODS (one threshold for the dataset), OIS (the best threshold per image) and
AP; and segmentation covering of the ground truth by the hierarchy's cuts.

Matching: ``official`` is pyEdgeEval's port of the benchmark's
``correspondPixels`` (Goldberg's cost-scaling assignment on a graph whose
unmatched pixels reach only 6 random outlier nodes each: near-maximal and
not deterministic, a run differs from the next by a few pixels); ``exact``
is a maximum-cardinality matching of the pixels within the radius
(compiled Hopcroft-Karp, :mod:`.boundary_matching`), the optimum that
``correspondPixels`` approximates. ``exact`` is about 12x faster, but it
matches about 0.1 % more pixels than ``correspondPixels``, which puts ODS /
OIS / AP about 0.001 higher (``benchmarks/README.md``): numbers to compare
with published ones use ``official``.

A thresholded map depends only on which values lie above the threshold, so
thresholds that give the same map (same count of pixels above: the sets are
nested) are scored once.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from mmssl_seg.evaluation.functional.matching import confusion_matrix

MAX_DIST = 0.0075


def exact_match(pred: np.ndarray, gt: np.ndarray,
                max_dist: float = MAX_DIST) -> tuple[np.ndarray, np.ndarray]:
    """Matched pixels of two boundary maps: a maximum-cardinality one-to-one
    matching of the pixels within ``max_dist`` x the image diagonal
    (compiled Hopcroft-Karp, :mod:`.boundary_matching`)."""
    # numba loads in about a second: only where this matcher is used
    from mmssl_seg.evaluation.functional.boundary_matching import (
        match_boundaries,
    )
    return match_boundaries(pred, gt, max_dist * np.hypot(*pred.shape))


def official_match(pred: np.ndarray, gt: np.ndarray,
                   max_dist: float = MAX_DIST
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Matched pixels by the benchmark's ``correspondPixels``
    (pyEdgeEval)."""
    from pyEdgeEval._lib import correspond_pixels
    match_p, match_g, _, _ = correspond_pixels(pred, gt, max_dist=max_dist)
    return match_p > 0, match_g > 0


MATCHERS = {'official': official_match, 'exact': exact_match}


def boundary_counts(strength: np.ndarray, gt_boundaries: Sequence[np.ndarray],
                    thresholds: np.ndarray, max_dist: float = MAX_DIST,
                    matcher: str = 'official') -> np.ndarray:
    """``T x 4`` counts per threshold: matched ground-truth pixels, ground-
    truth pixels (both summed over annotators), matched predicted pixels (to
    any annotator) and predicted pixels, after thinning ``strength >= t``
    (the benchmark's ``bwmorph(thin, inf)``)."""
    from pyEdgeEval.preprocess import binary_thin
    match = MATCHERS[matcher]
    gts = [g.astype(bool) for g in gt_boundaries]
    gt_total = sum(int(g.sum()) for g in gts)
    counts = np.zeros((len(thresholds), 4))
    done: dict[int, np.ndarray] = {}
    for i, t in enumerate(thresholds):
        above = strength >= t
        key = int(above.sum())  # nested sets: the count names the map
        if key not in done:
            pred = binary_thin(above)
            union = np.zeros(pred.shape, bool)
            matched_gt = 0
            for gt in gts:
                match_p, match_g = match(pred, gt, max_dist)
                union |= match_p
                matched_gt += int(match_g.sum())
            done[key] = np.array([matched_gt, gt_total, union.sum(),
                                  pred.sum()], np.float64)
        counts[i] = done[key]
    return counts


def _prf(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    recall = counts[..., 0] / np.maximum(counts[..., 1], 1)
    precision = np.where(counts[..., 3] > 0,
                         counts[..., 2] / np.maximum(counts[..., 3], 1), 1.0)
    f = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return precision, recall, f


def summarise_boundaries(per_image: np.ndarray,
                         thresholds: np.ndarray) -> dict:
    """ODS, OIS and AP from ``N x T x 4`` counts.

    ODS: F of the summed counts at the best threshold. OIS: the counts of
    each image at its own best threshold, summed. AP: precision averaged
    over recall 0, 0.01, .., 1 (linear interpolation along the curve, 0
    beyond the largest recall reached), as the benchmark's ``interp1``.
    The benchmark also interpolates F between neighbouring thresholds;
    here F is read at the thresholds themselves (a difference below 0.005
    with 99 thresholds).
    """
    total = per_image.sum(0)
    precision, recall, f = _prf(total)
    best = int(f.argmax())
    _, _, f_img = _prf(per_image)
    chosen = per_image[np.arange(len(per_image)), f_img.argmax(1)].sum(0)
    ois = float(_prf(chosen)[2])
    order = np.argsort(recall)
    grid = np.linspace(0, 1, 101)
    p_grid = np.interp(grid, recall[order], precision[order], right=0.0)
    return {'ODS': float(f[best]), 'ODS_threshold': float(thresholds[best]),
            'ODS_precision': float(precision[best]),
            'ODS_recall': float(recall[best]), 'OIS': ois,
            'AP': float(p_grid.mean()), 'images': len(per_image)}


def covering(segmentation: np.ndarray, ground_truth: np.ndarray) -> float:
    """Covering of ``ground_truth`` by ``segmentation``: each ground-truth
    region's best overlap (IoU) with a segment, weighted by its size."""
    _, seg = np.unique(segmentation, return_inverse=True)
    _, gt = np.unique(ground_truth, return_inverse=True)
    segments, regions = seg.max() + 1, gt.max() + 1
    joint = confusion_matrix(seg, gt, segments, regions,
                             ignore_index=-1)[:segments]
    gt_size, seg_size = joint.sum(0), joint.sum(1)
    iou = joint / (seg_size[:, None] + gt_size[None] - joint)
    return float((iou.max(0) * gt_size).sum() / gt_size.sum())


def score_ucm2(ucm2: np.ndarray, gt_boundaries: Sequence[np.ndarray],
               gt_segments: Sequence[np.ndarray], thresholds: np.ndarray,
               matcher: str = 'official') -> tuple[np.ndarray, list]:
    """One image's boundary counts (``T x 4``) and mean covering per
    threshold, from its ``ucm2`` as the BSDS code reads it: boundaries at
    ``ucm2[2::2, 2::2]``, the partition at ``t`` the 4-connected components
    of ``ucm2 <= t`` at ``[1::2, 1::2]`` (each distinct partition scored
    once)."""
    from skimage.measure import label
    strength = ucm2[2::2, 2::2]
    if strength.shape != gt_boundaries[0].shape:
        raise ValueError(f'ucm2 is {ucm2.shape}, needs 2x the image '
                         f'{gt_boundaries[0].shape} + 1')
    counts = boundary_counts(strength, gt_boundaries, thresholds,
                             matcher=matcher)
    covers, done = [], {}
    for t in thresholds:
        inside = ucm2 <= t
        key = int(inside.sum())  # nested sets: the count names the cut
        if key not in done:
            regions = label(inside, connectivity=1)[1::2, 1::2]
            done[key] = float(np.mean([covering(regions, s)
                                       for s in gt_segments]))
        covers.append(done[key])
    return counts, covers


def summarise_hierarchies(counts: Sequence[np.ndarray],
                          covers: Sequence[Sequence[float]],
                          thresholds: np.ndarray) -> dict:
    """ODS / OIS / AP and covering ODS / OIS of per-image scores
    (:func:`score_ucm2`)."""
    if not len(counts):
        raise ValueError('no image was evaluated')
    result = summarise_boundaries(np.stack(counts), thresholds)
    covers = np.asarray(covers)
    result['covering_ODS'] = float(covers.mean(0).max())
    result['covering_OIS'] = float(covers.max(1).mean())
    return result
