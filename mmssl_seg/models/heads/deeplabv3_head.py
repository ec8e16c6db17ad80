"""DeepLabV3's head with the ASPP projection, as the MaskContrast code builds
it (after torchvision's DeepLabHead)."""
from __future__ import annotations

from typing import Sequence

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.aspp_head import ASPPHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


@MODELS.register_module()
class DeepLabV3Head(ASPPHead):
    """ASPP (Chen et al., 2017) with its 1x1 projection, then a 3x3 layer and
    the classifier: the DeepLab-v3 head of MaskContrast (supplement C and
    the authors' ``modules/deeplab.py``).

    ``x -> [1x1, 3x3 rate r for r in dilations[1:], image pooling]`` (each
    Conv-BN-ReLU to ``channels``) ``-> concat -> 1x1 projection (Conv-BN-
    ReLU, dropout) -> 3x3 Conv-BN-ReLU -> conv_seg``.

    MMSeg's ``ASPPHead``, whose branches it shares (same keys), differs
    after them: the image-pooling branch comes first in its concatenation,
    and a 3x3 bottleneck sits directly on it, with no projection and no
    dropout. Weights of one do not load into the other.

    Args:
        dilations: Rates of the ASPP branches; the first (1) is the 1x1
            branch (``(1, 12, 24, 36)`` at output stride 8).
        project_dropout: Dropout after the projection (0.5).
        norm_eval: Keep the head's batch-norm layers in eval mode (their
            statistics frozen) while training, as MaskContrast fine-tunes.
        Others as :class:`BaseDecodeHead` (``channels`` = 256 in the paper).
    """

    def __init__(self, dilations: Sequence[int] = (1, 12, 24, 36),
                 project_dropout: float = 0.5, norm_eval: bool = False,
                 **kwargs) -> None:
        super().__init__(dilations=tuple(dilations), **kwargs)
        common = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                      act_cfg=self.act_cfg)
        self.project = ConvModule((len(dilations) + 1) * self.channels,
                                  self.channels, 1, **common)
        self.project_dropout = nn.Dropout(project_dropout)
        self.bottleneck = ConvModule(self.channels, self.channels, 3,
                                     padding=1, **common)
        self.norm_eval = norm_eval

    def _forward_feature(self, inputs: list) -> torch.Tensor:
        """The features before the classifier (after the 3x3 layer)."""
        x = self._transform_inputs(inputs)
        pooled = resize(self.image_pool(x), size=x.shape[2:],
                        mode='bilinear', align_corners=self.align_corners)
        branches = [*self.aspp_modules(x), pooled]
        out = self.project_dropout(self.project(torch.cat(branches, 1)))
        return self.bottleneck(out)

    def forward(self, inputs: list) -> torch.Tensor:
        return self.cls_seg(self._forward_feature(inputs))

    def train(self, mode: bool = True) -> DeepLabV3Head:
        super().train(mode)
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
