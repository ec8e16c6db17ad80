"""Transforms for pretraining on auxiliary labels (auxiliary-label contrast):
load labels and superpixels as segmentation fields (so MMSeg's geometric
transforms move them with the image), CutOut filled with the region's own
mean colour, and packing the superpixels next to the labels."""
from __future__ import annotations

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from mmssl_seg.datasets.transforms.prior_files import LoadPriorFiles
from mmssl_seg.structures import prior_path, read_prior_map

IGNORE = 255


@TRANSFORMS.register_module()
class LoadAuxLabels(LoadPriorFiles):
    """Load an image's auxiliary labels (``labels/<stem>.png`` of a
    ``make_aux_labels.py`` folder, 255 = none) as ``gt_seg_map`` and its
    superpixels (``superpixels/<stem>.png``) as ``gt_superpixels``; both
    join ``seg_fields``. A missing file, one of another size than its
    image, or labels that leave every pixel unlabelled are an error naming
    both (the run's prior check lists them all before the first
    iteration).

    Args:
        root: The ``make_aux_labels.py`` output folder.
    """

    def read(self, img_path: str, shape: tuple[int, int]
             ) -> tuple[np.ndarray, np.ndarray]:
        labels, superpixels = (
            read_prior_map(prior_path(self.root, kind, img_path), shape,
                           img_path, what)
            for kind, what in (('aux_labels', 'auxiliary labels'),
                               ('superpixels', 'superpixels')))
        if (labels == IGNORE).all():  # a defined zero loss, nothing learnt
            path = prior_path(self.root, 'aux_labels', img_path)
            raise ValueError(f'auxiliary labels {path} leave every pixel of '
                             f'{img_path} unlabelled (255)')
        return labels, superpixels

    def put(self, results: dict, value: tuple[np.ndarray, np.ndarray]
            ) -> None:
        results['gt_seg_map'], results['gt_superpixels'] = value
        fields = results.setdefault('seg_fields', [])
        fields += [f for f in ('gt_seg_map', 'gt_superpixels')
                   if f not in fields]


@TRANSFORMS.register_module()
class MeanCutOut(BaseTransform):
    """CutOut (DeVries and Taylor, 2017) whose hole is filled with the mean
    colour of the pixels it covers, as the auxiliary-label paper does.
    Labels are kept (the pixels still belong to their regions).

    Args:
        prob: Probability of cutting at all.
        n_holes: Number of holes.
        ratio: Range of hole side as a fraction of the image side.
    """

    def __init__(self, prob: float = 0.5, n_holes: int = 1,
                 ratio: tuple[float, float] = (0.1, 0.3)) -> None:
        self.prob = prob
        self.n_holes = n_holes
        self.ratio = ratio

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        img = results['img']
        h, w = img.shape[:2]
        for _ in range(self.n_holes):
            side = np.random.uniform(*self.ratio)
            ch, cw = max(1, int(h * side)), max(1, int(w * side))
            y0 = np.random.randint(0, h - ch + 1)
            x0 = np.random.randint(0, w - cw + 1)
            hole = img[y0:y0 + ch, x0:x0 + cw]
            hole[...] = hole.reshape(-1, img.shape[2]).mean(0).astype(
                img.dtype)
        return results


@TRANSFORMS.register_module()
class PackAuxLabelInputs(PackSegInputs):
    """``PackSegInputs`` that also packs ``gt_superpixels`` into the data
    sample (``data_sample.gt_superpixels``)."""

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        superpixels = results['gt_superpixels'].astype(np.int64)
        packed['data_samples'].gt_superpixels = PixelData(
            data=torch.from_numpy(superpixels)[None])
        return packed
