"""The BSDS500 benchmark of a folder of hierarchies (``ucm2`` per image,
ours as 16-bit PNG or BSDS's ``.mat``) against the human annotations:
boundary ODS / OIS / AP and segmentation covering, image by image in
parallel, next to the published gPb-OWT-UCM results where given."""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

import numpy as np

from mmssl_seg.evaluation.functional.bsds import (
    boundary_counts,
    score_ucm2,
    summarise_boundaries,
    summarise_hierarchies,
)
from mmssl_seg.structures import read_bsds_ground_truth, read_ucm2
from mmssl_seg.utils.parallel import parallel_map


def read_reference(folder: str) -> dict:
    """The published summary of the BSDS code's ``eval_bdry.txt`` (threshold,
    ODS R/P/F, OIS R/P/F, AP) and ``eval_cover.txt`` (threshold, ODS, OIS,
    best)."""
    bdry = np.loadtxt(osp.join(folder, 'eval_bdry.txt'))
    result = {'ODS': float(bdry[3]), 'OIS': float(bdry[6]),
              'AP': float(bdry[7])}
    cover_path = osp.join(folder, 'eval_cover.txt')
    if osp.isfile(cover_path):
        cover = np.loadtxt(cover_path)
        result.update(covering_ODS=float(cover[1]),
                      covering_OIS=float(cover[2]))
    return result


class _ImageScore:
    """:func:`score_ucm2` of one ``(stem, ucm2 path)`` (picklable for
    workers)."""

    def __init__(self, gt_dir: str, thresholds: np.ndarray,
                 matcher: str = 'official') -> None:
        self.gt_dir = gt_dir
        self.thresholds = thresholds
        self.matcher = matcher

    def __call__(self, item: tuple[str, str]) -> tuple[np.ndarray, list]:
        stem, path = item
        boundaries, segments = read_bsds_ground_truth(
            osp.join(self.gt_dir, stem + '.mat'))
        try:
            return score_ucm2(read_ucm2(path), boundaries, segments,
                              self.thresholds, self.matcher)
        except ValueError as error:
            raise ValueError(f'{path}: {error}') from None


class _EdgeScore(_ImageScore):
    """:func:`boundary_counts` of one ``(stem, edge map path)``: a thinned
    edge map in [0, 1] of the image's size (16-bit PNG)."""

    def __call__(self, item: tuple[str, str]) -> tuple[np.ndarray, list]:
        stem, path = item
        boundaries, _ = read_bsds_ground_truth(
            osp.join(self.gt_dir, stem + '.mat'))
        edges = read_ucm2(path)  # the same 16-bit [0, 1] encoding
        if edges.shape != boundaries[0].shape:
            raise ValueError(f'{path}: edge map is {edges.shape}, the image '
                             f'{boundaries[0].shape}')
        return boundary_counts(edges, boundaries, self.thresholds,
                               matcher=self.matcher), []


def _items(folder: str, gt_dir: str, limit: int | None,
           what: str) -> list[tuple[str, str]]:
    items = sorted(
        (osp.splitext(f)[0], osp.join(folder, f)) for f in os.listdir(folder)
        if f.endswith(('.png', '.mat'))
        and osp.isfile(osp.join(gt_dir, osp.splitext(f)[0] + '.mat')))
    if limit:
        items = items[:limit]
    if not items:
        raise FileNotFoundError(f'no {what} in {folder} with ground truth in '
                                f'{gt_dir}')
    return items


def _thresholds(thresholds: Sequence[float] | int) -> np.ndarray:
    if isinstance(thresholds, int):
        thresholds = np.linspace(0, 1, thresholds + 2)[1:-1]
    return np.asarray(thresholds, np.float64)


def evaluate_edge_maps(edge_dir: str, gt_dir: str,
                       thresholds: Sequence[float] | int = 99,
                       workers: int = 1, limit: int | None = None,
                       matcher: str = 'official') -> dict:
    """The boundary benchmark (ODS / OIS / AP) of a folder of thinned edge
    maps (``make_hierarchies.py --save-edges``), as the SE toolbox's
    ``edgesEval`` scores edge detectors; arguments as
    :func:`evaluate_hierarchies`."""
    thresholds = _thresholds(thresholds)
    items = _items(edge_dir, gt_dir, limit, 'edge map')
    counts = [c for c, _ in parallel_map(
        _EdgeScore(gt_dir, thresholds, matcher), items, workers,
        'BSDS benchmark (edges)')]
    result = summarise_boundaries(np.stack(counts), thresholds)
    result['thresholds'] = len(thresholds)
    result['matcher'] = matcher
    return result


def evaluate_hierarchies(ucm_dir: str, gt_dir: str,
                         thresholds: Sequence[float] | int = 99,
                         workers: int = 1,
                         limit: int | None = None,
                         matcher: str = 'official') -> dict:
    """Every ``ucm2`` of ``ucm_dir`` (``.png`` or ``.mat``) that has ground
    truth in ``gt_dir``.

    Args:
        thresholds: The thresholds, or their number (evenly spaced in
            (0, 1) as the benchmark's ``nthresh``).
        limit: Only the first images (sorted by name), for quick checks.
        matcher: ``official`` (the benchmark's ``correspondPixels``) or
            ``exact`` (maximum matching; see
            :mod:`mmssl_seg.evaluation.functional.bsds`).
    """
    thresholds = _thresholds(thresholds)
    items = _items(ucm_dir, gt_dir, limit, 'ucm2')
    counts, covers = [], []
    for one_counts, one_covers in parallel_map(
            _ImageScore(gt_dir, thresholds, matcher), items, workers,
            'BSDS benchmark'):
        counts.append(one_counts)
        covers.append(one_covers)
    result = summarise_hierarchies(counts, covers, thresholds)
    result['thresholds'] = len(thresholds)
    result['matcher'] = matcher
    return result
