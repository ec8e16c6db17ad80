"""Shared pieces of the multi-view transforms (MaskContrast's saliency
views, hierarchical grouping's region views): torchvision's random resized
crop rule and the packing of views with per-view maps."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample


def random_resized_box(h: int, w: int, scale: Sequence[float],
                       log_ratio: Sequence[float]
                       ) -> tuple[int, int, int, int] | None:
    """One try of a random resized crop (torchvision's rule): area fraction
    uniform in ``scale``, log aspect ratio uniform in ``log_ratio``;
    ``(y, x, h, w)`` or ``None`` when it does not fit."""
    area = h * w * np.random.uniform(*scale)
    aspect = math.exp(np.random.uniform(*log_ratio))
    cw = int(round(math.sqrt(area * aspect)))
    ch = int(round(math.sqrt(area / aspect)))
    if not (0 < cw <= w and 0 < ch <= h):
        return None
    return (np.random.randint(0, h - ch + 1), np.random.randint(0, w - cw + 1),
            ch, cw)


class PackViews(BaseTransform):
    """Pack multi-view samples: ``inputs`` is a list of ``3 x H x W`` uint8
    tensors (one per view), ``data_samples`` a ``SegDataSample`` whose
    per-view ``fields`` are stacked into ``V x H x W`` pixel data and whose
    ``meta_tensors`` (e.g. a view geometry) join the metainfo as tensors.

    Args:
        meta_keys: Kept in the data sample's metainfo.
        fields: Per-view maps to stack.
        meta_tensors: Arrays to keep in the metainfo as tensors.
    """

    def __init__(self, meta_keys: Sequence[str] = ('img_path', 'ori_shape',
                                                   'img_shape'),
                 fields: Sequence[str] = (),
                 meta_tensors: Sequence[str] = ()) -> None:
        self.meta_keys = meta_keys
        self.fields = fields
        self.meta_tensors = meta_tensors

    def transform(self, results: dict) -> dict:
        inputs = [torch.from_numpy(np.ascontiguousarray(
            img.transpose(2, 0, 1))) for img in results['img']]
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.update({k: torch.from_numpy(np.asarray(results[k]))
                     for k in self.meta_tensors})
        sample = SegDataSample(metainfo=meta)
        for field in self.fields:
            sample.set_field(PixelData(data=torch.from_numpy(
                np.stack(results[field]))), field)
        return dict(inputs=inputs, data_samples=sample)
