"""BSDS500 annotations as a boundary label map (for the contour
detector of hierarchical grouping)."""
from __future__ import annotations

import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadBSDSBoundaries(BaseTransform):
    """The annotators' boundaries as one label map (RCF's consensus rule):
    1 where at least ``eta`` of the annotators draw a boundary, 0 where none
    does, 255 (ignored) in between.

    Args:
        eta: Fraction of annotators needed for a positive (0.5).
    """

    def __init__(self, eta: float = 0.5) -> None:
        if not 0 < eta <= 1:
            raise ValueError(f'eta must be in (0, 1], got {eta}')
        self.eta = eta

    def transform(self, results: dict) -> dict:
        from scipy.io import loadmat
        path = results['seg_map_path']
        if not osp.isfile(path):
            raise FileNotFoundError(f'BSDS ground truth missing: {path} (for '
                                    f'{results.get("img_path")})')
        annotators = loadmat(path)['groundTruth'][0]
        votes = np.mean([a['Boundaries'][0, 0] > 0 for a in annotators],
                        axis=0)
        label = np.full(votes.shape, 255, np.uint8)
        label[votes == 0] = 0
        label[votes >= self.eta] = 1
        results['gt_seg_map'] = label
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results
