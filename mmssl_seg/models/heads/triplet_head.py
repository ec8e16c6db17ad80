"""The loss of Mix-and-Match tuning (Zhan et al., AAAI 2018)."""
from __future__ import annotations

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS


@MODELS.register_module()
class TripletHead(BaseModule):
    """The triplet ranking loss (eq. 1, :class:`TripletRankingLoss`) on the
    flattened, L2-normalised patch features of the triplets the algorithm
    drew from its graph.

    Args:
        loss: :class:`TripletRankingLoss` config.
    """

    def __init__(self, loss: dict = dict(type='TripletRankingLoss'),
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.loss_triplet = MODELS.build(loss)

    def loss(self, features: torch.Tensor, triplets: torch.Tensor,
             valid: torch.Tensor) -> dict:
        """
        Args:
            features: ``P x ...`` patch features (pool5).
            triplets: ``P x 3`` (anchor, positive, negative) indices.
            valid: ``P`` booleans: the rows that are triplets; none gives
                a loss of 0 with a zero gradient.
        """
        return {
            'loss_triplet': self.loss_triplet(features, triplets, valid),
            'triplets': valid.sum().float(),
        }
