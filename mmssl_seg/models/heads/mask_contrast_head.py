"""The losses of MaskContrast (Van Gansbeke et al., ICCV 2021)."""
from __future__ import annotations

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS


@MODELS.register_module()
class MaskContrastHead(BaseModule):
    """Pixel-to-prototype contrast (eq. 3, :class:`MaskContrastLoss`) over
    the salient query pixels, and the saliency head's loss
    (:class:`SaliencyBCELoss`).

    Args:
        loss_contrast: :class:`MaskContrastLoss` config.
        loss_saliency: :class:`SaliencyBCELoss` config.
    """

    def __init__(self,
                 loss_contrast: dict = dict(type='MaskContrastLoss'),
                 loss_saliency: dict = dict(type='SaliencyBCELoss'),
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.loss_contrast = MODELS.build(loss_contrast)
        self.loss_saliency = MODELS.build(loss_saliency)

    def loss(self, query: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
             saliency_logits: torch.Tensor,
             query_masks: torch.Tensor, prototypes: torch.Tensor,
             prototype_valid: torch.Tensor,
             negatives: torch.Tensor) -> dict:
        """
        Args:
            query: ``N x D x H x W`` query embeddings, L2-normalised, or
                the salient pixels' ``(P x D embeddings, P image indices)``
                (:func:`~mmssl_seg.models.losses.upsampled_pixels`).
            saliency_logits: ``N x H x W``.
            query_masks: ``N x H x W`` saliency of the query view (0/1).
            prototypes: ``N x D`` key prototypes; ``prototype_valid`` (``N``)
                marks those with a salient pixel.
            negatives: ``K x D`` queued prototypes.
        """
        if isinstance(query, tuple):
            loss_contrast, stats = self.loss_contrast.from_pixels(
                *query, prototypes, prototype_valid, negatives)
        else:
            loss_contrast, stats = self.loss_contrast(
                query, query_masks, prototypes, prototype_valid, negatives)
        return {
            'loss_contrast': loss_contrast,
            'loss_saliency': self.loss_saliency(saliency_logits, query_masks),
            'salient_pixels': stats['pixels'],
        }
