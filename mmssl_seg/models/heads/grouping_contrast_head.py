"""The loss of hierarchical grouping (Zhang and Maire, NeurIPS 2020)."""
from __future__ import annotations

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS


@MODELS.register_module()
class GroupingContrastHead(BaseModule):
    """Eq. 1 (:class:`GroupingContrastLoss`) over the anchors, positives
    (Pos+) and negatives (Neg+) the algorithm sampled from the region trees.

    Args:
        loss: :class:`GroupingContrastLoss` config.
    """

    def __init__(self, loss: dict = dict(type='GroupingContrastLoss'),
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.loss_fn = MODELS.build(loss)

    def loss(self, anchors: torch.Tensor, positives: torch.Tensor,
             pos_valid: torch.Tensor, negatives: torch.Tensor,
             neg_valid: torch.Tensor) -> dict:
        """
        Args:
            anchors: ``A x C``; positives ``A x P x C`` and negatives ``A x
                N x C``, with ``pos_valid`` / ``neg_valid`` marking the real
                ones.
        """
        loss, stats = self.loss_fn(anchors, positives, pos_valid, negatives,
                                   neg_valid)
        return {'loss_grouping': loss, 'pairs': stats['pairs'].float()}
