"""Multi-scale dense features of an existing extractor (auxiliary-label paper
sec. 3): the image at several scales, each scale's features upsampled
bilinearly to 1/8 of the input, concatenated and L2-normalised per pixel."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from mmssl_seg.models.builder import dense_features, preprocess
from mmssl_seg.utils.errors import ArgumentError

#: the paper's scales: ResNet classifiers, DeepLabV3 segmentors
RESNET_SCALES = (1.0, 2.0, 4.0)
DEEPLAB_SCALES = (0.5, 0.75, 1.0, 1.5, 2.0)


class MultiScaleExtractor:
    """Features of one image at 1/8 resolution.

    Args:
        model: Any model :func:`dense_features` understands (MMPretrain
            classifier: ``backbone``, the map before global pooling; MMSeg
            segmentor: ``decoder``, the features before the classifier).
        kind: ``backbone`` or ``decoder`` (or a kind the model exposes).
        scales: Image scales whose features are concatenated.
        in_index: Backbone stage for ``backbone``.
    """

    def __init__(self, model, kind: str = 'backbone',
                 scales: Sequence[float] = RESNET_SCALES,
                 in_index: int = -1) -> None:
        if not scales:
            raise ArgumentError('give at least one scale')
        self.model = model
        self.kind = kind
        self.scales = tuple(float(s) for s in scales)
        self.in_index = in_index

    @staticmethod
    def output_size(height: int, width: int) -> tuple[int, int]:
        return max(1, round(height / 8)), max(1, round(width / 8))

    @torch.no_grad()
    def __call__(self, image: np.ndarray) -> torch.Tensor:
        """``C x H/8 x W/8`` unit-norm features of a BGR ``H x W x 3``
        image."""
        h, w = image.shape[:2]
        size = self.output_size(h, w)
        maps = []
        for scale in self.scales:
            scaled = image if scale == 1.0 else cv2.resize(
                image, (max(8, round(w * scale)), max(8, round(h * scale))),
                interpolation=cv2.INTER_LINEAR)
            x = preprocess(self.model,
                           [torch.from_numpy(scaled).permute(2, 0, 1)])
            feature = dense_features(self.model, x, self.kind,
                                     self.in_index)
            maps.append(F.interpolate(feature.float(), size=size,
                                      mode='bilinear', align_corners=False))
        return F.normalize(torch.cat(maps, dim=1)[0], dim=0)
