"""The hypercolumn embedding of hierarchical grouping (Zhang and Maire,
NeurIPS 2020, sec. 4.2 "Network Design")."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn


@MODELS.register_module()
class HypercolumnNeck(BaseModule):
    """A 3x3 Conv-BN-ReLU projects each chosen backbone stage (the last
    outputs of Res3 and Res4 of ResNet-50: 512 and 1024 channels at strides
    8 and 16) to ``channels``; the maps are upsampled (bilinearly) to
    1/``stride`` of the input, concatenated, and a 3x3 convolution gives the
    ``out_channels`` embedding (32 in the paper). Returns a one-element tuple
    as MMSeg necks do, so a stock ``EncoderDecoder`` can put a head on it.

    Args:
        in_channels: Channels of the chosen stages.
        in_index: Which backbone outputs to use.
        in_strides: Their strides (the first one fixes the output size).
        channels: Channels of each projection (256).
        out_channels: Embedding channels (32).
        stride: Output resolution as a fraction of the input (4).
        norm_cfg: Normalisation of the projections.
        frozen: No gradients and BN in eval mode (frozen-feature
            evaluation, sec. 4.2).
    """

    def __init__(self, in_channels: Sequence[int] = (512, 1024),
                 in_index: Sequence[int] = (1, 2),
                 in_strides: Sequence[int] = (8, 16), channels: int = 256,
                 out_channels: int = 32, stride: int = 4,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 frozen: bool = False,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        if not len(in_channels) == len(in_index) == len(in_strides):
            raise ValueError('in_channels, in_index and in_strides differ '
                             'in length')
        self.in_index = tuple(in_index)
        self.upscale = in_strides[0] // stride
        self.projections = nn.ModuleList(
            ConvModule(c, channels, 3, padding=1, norm_cfg=norm_cfg)
            for c in in_channels)
        self.embed = nn.Conv2d(channels * len(in_channels), out_channels, 3,
                               padding=1)
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)

    def train(self, mode: bool = True) -> 'HypercolumnNeck':
        return super().train(mode and not self.frozen)

    def hypercolumn(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """The concatenated projections at 1/``stride`` (before the last
        convolution)."""
        first = feats[self.in_index[0]]
        size = (first.shape[2] * self.upscale, first.shape[3] * self.upscale)
        return torch.cat([
            F.interpolate(proj(feats[i]), size=size, mode='bilinear',
                          align_corners=False)
            for proj, i in zip(self.projections, self.in_index)
        ], dim=1)

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple[torch.Tensor]:
        return (self.embed(self.hypercolumn(feats)), )
