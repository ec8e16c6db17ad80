from __future__ import annotations

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn


@MODELS.register_module()
class TripletRankingLoss(nn.Module):
    """Mix-and-Match's triplet ranking loss (Zhan et al., AAAI 2018, eq. 1):

        L = 1/N sum_i max{ D(a_i, p_i) - D(a_i, n_i) + alpha, 0 }

    with the perceptual distance of eq. 2 between L2-normalised features,
    ``D(x, y) = || x/|x| - y/|y| ||_2``.

    The paper writes D as that Euclidean distance (at most 2, so with
    alpha = 2.1 the hinge never saturates and every triplet keeps a
    gradient) and the mean over N triplets: the default. The authors' code
    uses squared distances (at most 4, ``squared=True``) and divides the
    sum by 2N as its Caffe ``TripletLoss`` layer does (``halve=True``: half
    the gradient at the same lr).

    Args:
        margin: alpha (2.1 in the paper).
        squared: Squared Euclidean distances (authors' code) instead of
            Euclidean (paper).
        halve: Divide by 2N (authors' code) instead of N (eq. 1).
        loss_weight: Scale of the loss.
    """

    def __init__(self, margin: float = 2.1, squared: bool = False,
                 halve: bool = False, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.margin = margin
        self.squared = squared
        self.halve = halve
        self.loss_weight = loss_weight

    def distance(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        squared = (x - y).pow(2).sum(dim=1)
        if self.squared:
            return squared
        # sqrt has an infinite gradient at 0 (an anchor duplicated as its own
        # positive): clamp keeps the gradient finite (zero there)
        return squared.clamp(min=1e-12).sqrt()

    def forward(self, features: torch.Tensor, triplets: torch.Tensor,
                valid: torch.Tensor | None = None) -> torch.Tensor:
        """
        Args:
            features: ``P x C`` patch features (normalised here, eq. 2).
            triplets: ``T x 3`` (anchor, positive, negative) indices.
            valid: ``T`` booleans, the triplets that count (default all).

        Returns:
            The mean hinge over valid triplets (halved with ``halve``); 0
            (with a zero gradient) when there is none.
        """
        x = features.flatten(1)
        if x.dtype in (torch.float16, torch.bfloat16):  # AMP: norms in fp32
            x = x.float()
        x = F.normalize(x, dim=1)
        a, p, n = x[triplets[:, 0]], x[triplets[:, 1]], x[triplets[:, 2]]
        hinge = (self.distance(a, p) - self.distance(a, n) +
                 self.margin).clamp(min=0)
        if valid is None:
            valid = torch.ones_like(hinge, dtype=torch.bool)
        # masked, not indexed: the same shapes whatever the labels were
        loss = (hinge * valid).sum() / valid.sum().clamp(min=1)
        return self.loss_weight * (loss / 2 if self.halve else loss)
