"""The loss of auxiliary-label contrast (Zhang et al., NeurIPS 2021)."""
from __future__ import annotations

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from mmssl_seg.models.losses.aux_contrast_loss import PixelMeta


@MODELS.register_module()
class AuxContrastHead(BaseModule):
    """Confidence-weighted pixel contrast (eqs. 1-2,
    :class:`AuxLabelContrastLoss`) of sampled anchors against sampled
    candidates (the batch's and the memory bank's).

    Args:
        loss: :class:`AuxLabelContrastLoss` config.
    """

    def __init__(self, loss: dict = dict(type='AuxLabelContrastLoss'),
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.loss_contrast = MODELS.build(loss)

    def loss(self, anchors: torch.Tensor, anchor_meta: PixelMeta,
             candidates: torch.Tensor,
             candidate_meta: PixelMeta) -> tuple[torch.Tensor, dict]:
        """The loss and the pair counts (see the loss)."""
        return self.loss_contrast(anchors, anchor_meta, candidates,
                                  candidate_meta)
