"""Transforms for pretraining on auxiliary labels (auxiliary-label contrast):
load labels and superpixels as segmentation fields (so MMSeg's geometric
transforms move them with the image), CutOut filled with the region's own
mean colour, and packing the superpixels next to the labels."""
from __future__ import annotations

import os.path as osp

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadAuxLabels(BaseTransform):
    """Load ``<root>/labels/<stem>.png`` as ``gt_seg_map`` (auxiliary labels,
    255 = none) and ``<root>/superpixels/<stem>.png`` as ``gt_superpixels``
    (a ``make_aux_labels.py`` folder). Both join ``seg_fields``. A missing
    file or one of another size than its image is an error naming both.

    Args:
        root: The ``make_aux_labels.py`` output folder.
    """

    def __init__(self, root: str) -> None:
        self.root = root

    def check_prior(self, img_path: str, shape: tuple[int, int]
                    ) -> str | None:
        """What is wrong with the labels or superpixels of an image of
        ``shape``, or None (checked for every image when a run starts)."""
        stem = osp.splitext(osp.basename(img_path))[0]
        for kind in ('labels', 'superpixels'):
            path = osp.join(self.root, kind, stem + '.png')
            value = cv2.imread(path, cv2.IMREAD_UNCHANGED)
            if value is None:
                return f'auxiliary {kind} missing or unreadable: {path}'
            if value.shape != tuple(shape):
                return f'auxiliary {kind} {path} is {value.shape}, image ' \
                    f'{shape}'
        return None

    def _read(self, kind: str, results: dict) -> np.ndarray:
        stem = osp.splitext(osp.basename(results['img_path']))[0]
        path = osp.join(self.root, kind, stem + '.png')
        value = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if value is None:
            raise FileNotFoundError(f'auxiliary {kind} missing: {path} (for '
                                    f'{results["img_path"]})')
        if value.shape != results['img'].shape[:2]:
            raise ValueError(f'auxiliary {kind} {path} is {value.shape}, '
                             f'its image {results["img_path"]} is '
                             f'{results["img"].shape[:2]}')
        return value

    def transform(self, results: dict) -> dict:
        results['gt_seg_map'] = self._read('labels', results)
        results['gt_superpixels'] = self._read('superpixels', results)
        fields = results.setdefault('seg_fields', [])
        fields += [f for f in ('gt_seg_map', 'gt_superpixels')
                   if f not in fields]
        return results


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
