"""Batching of the prior fields next to the images: superpixels padded with
the images, tree distances padded to the batch's largest tree."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmpretrain.models import SelfSupDataPreprocessor
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS


@MODELS.register_module()
class AuxLabelDataPreProcessor(SegDataPreProcessor):
    """:class:`SegDataPreProcessor` that also pads each sample's
    ``gt_superpixels`` to the batch's input size (with -1, no superpixel),
    as it pads the auxiliary labels (``gt_sem_seg``, with 255)."""

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        height, width = data['inputs'].shape[2:]
        for sample in data['data_samples'] or []:
            if 'gt_superpixels' not in sample:
                continue
            sp = sample.gt_superpixels.data
            sample.gt_superpixels = PixelData(data=F.pad(
                sp, (0, width - sp.shape[-1], 0, height - sp.shape[-2]),
                value=-1))
        return data


@MODELS.register_module()
class RegionViewsDataPreProcessor(SelfSupDataPreprocessor):
    """MMPretrain's multi-view preprocessor that also pads each sample's
    ``tree_distance`` (``K x K``) to the batch's largest ``K`` (the padded
    rows belong to no pixel)."""

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        samples = data['data_samples'] or []
        sizes = [s.tree_distance.shape[0] for s in samples
                 if 'tree_distance' in s]
        for sample in samples:
            if 'tree_distance' in sample:
                d = torch.as_tensor(sample.tree_distance)
                pad = max(sizes) - d.shape[0]
                sample.set_metainfo(dict(tree_distance=F.pad(d, (0, pad,
                                                                  0, pad))))
        return data
