from __future__ import annotations

import torch
from mmseg.registry import MODELS
from torch import nn

from mmssl_seg.models.utils.triplet_graph import TRIPLET_SAMPLERS


@MODELS.register_module()
class GraphTripletHead(nn.Module):
    """The 'match' step of Mix-and-Match tuning: triplets from the class-wise
    connected perceptual patch graph (or random triplets, the ablation) and
    the triplet ranking loss on the flattened, L2-normalised patch features.

    A batch without two classes (no negative) or without patches gives a
    loss of 0 with a zero gradient; the counts are returned so a run can log
    how often that happens.

    Args:
        triplets: ``class_connected`` (the paper) or ``random`` (Schroff et
            al.'s selection, the paper's ablation).
        loss: The loss config (:class:`TripletRankingLoss`).
    """

    def __init__(self, triplets: str = 'class_connected',
                 loss: dict = dict(type='TripletRankingLoss')) -> None:
        super().__init__()
        if triplets not in TRIPLET_SAMPLERS:
            raise ValueError(f'triplets must be one of {list(TRIPLET_SAMPLERS)}')
        self.triplets = triplets
        self.loss_triplet = MODELS.build(loss)

    def loss(self, features: torch.Tensor, labels: torch.Tensor,
             generator: torch.Generator) -> dict:
        """
        Args:
            features: ``P x ...`` patch features (pool5).
            labels: ``P`` patch labels.
            generator: Random source of the graph.
        """
        triplets, stats = TRIPLET_SAMPLERS[self.triplets](labels.cpu(),
                                                         generator)
        loss = self.loss_triplet(features, triplets.to(features.device))
        device = features.device
        return {
            'loss_triplet': loss,
            'triplets': torch.tensor(float(len(triplets)), device=device),
            'patches': torch.tensor(float(len(labels)), device=device),
            'no_negative': torch.tensor(float(stats['no_negative']),
                                        device=device),
        }
