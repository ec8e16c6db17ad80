"""The VGG16 that Mix-and-Match fine-tunes with hypercolumns (the authors'
``finetune_seg.prototxt``, after Larsson et al. 2017)."""
from __future__ import annotations

import torch
from mmcv.cnn import ConvModule
from mmpretrain.models.backbones import VGG
from mmseg.registry import MODELS
from torch import nn


@MODELS.register_module()
class HypercolumnVGG(VGG):
    """VGG16 (MMPretrain's, same weight names, so M&M-tuned weights load
    unchanged) that outputs every map the authors' hypercolumn reads: the
    input, the 13 convolutions after batch norm and ReLU, ``fc6`` (7x7
    convolution to 4096 on pool5, ReLU, dropout), ``fc7`` (1x1 to 4096,
    ReLU, dropout) and two added blocks ``conv_add1`` / ``conv_add2`` (3x3
    to 1024, ReLU, 2x2 max pooling): 18 maps at strides 1, 1, 1, 2, 2, 4,
    4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 64, 128.

    Args:
        fc_channels: Width of fc6 and fc7 (4096).
        add_channels: Width of the added blocks (1024).
        dropout: Dropout after fc6 and fc7 (0.5).
        Others as MMPretrain's ``VGG`` (``depth=16``, ``with_last_pool``
        True: fc6 reads pool5).
    """

    def __init__(self, fc_channels: int = 4096, add_channels: int = 1024,
                 dropout: float = 0.5, **kwargs) -> None:
        kwargs.setdefault('depth', 16)
        kwargs.update(out_indices=(4, ), with_last_pool=True)
        super().__init__(**kwargs)
        self.fc6 = ConvModule(512, fc_channels, 7, padding=3)
        self.fc7 = ConvModule(fc_channels, fc_channels, 1)
        self.drop = nn.Dropout(dropout)
        self.conv_add1 = ConvModule(fc_channels, add_channels, 3, padding=1)
        self.conv_add2 = ConvModule(add_channels, add_channels, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)

    @property
    def out_channels(self) -> list[int]:
        convs = [m.conv.out_channels for m in self.features
                 if isinstance(m, ConvModule)]
        return [3, *convs, self.fc6.conv.out_channels,
                self.fc7.conv.out_channels, self.conv_add1.conv.out_channels,
                self.conv_add2.conv.out_channels]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outs = [x]
        for layer in self.features:
            x = layer(x)
            if isinstance(layer, ConvModule):
                outs.append(x)
        x = self.drop(self.fc6(x))
        outs.append(x)
        x = self.drop(self.fc7(x))
        outs.append(x)
        x = self.pool(self.conv_add1(x))
        outs.append(x)
        outs.append(self.pool(self.conv_add2(x)))
        return tuple(outs)
