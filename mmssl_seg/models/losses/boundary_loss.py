"""Class-balanced boundary loss of HED (Xie and Tu, ICCV 2015, eq. 2), for
this project's contour detector."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn

from mmssl_seg.models.utils.zero_loss import zero_loss


@MODELS.register_module()
class ClassBalancedBoundaryLoss(nn.Module):
    """HED eq. 2 with two-class softmax scores::

        l = -beta * sum_{Y+} log P(y = 1) - (1 - beta) * sum_{Y-} log P(y = 0)
        beta = |Y-| / |Y|

    over the labelled pixels of the batch (``ignore_index`` left out),
    divided by ``|Y|`` so that the scale does not depend on the image size.
    Boundaries are about 10 % of BSDS pixels: without the balance a
    detector learns to say "no boundary". (MMSeg's ``CrossEntropyLoss`` with
    ``class_weight`` would be the static alternative, but in MMSeg 1.2.2 it
    indexes the weights with the ignore label.)

    Args:
        loss_weight: Multiplier.
        loss_name: Name in the log (MMSeg decode heads need it).
    """

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: str = 'loss_boundary') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor,
                weight: torch.Tensor | None = None,
                ignore_index: int = 255, **kwargs) -> torch.Tensor:
        log_p = F.log_softmax(cls_score, dim=1)
        positive = label == 1
        negative = label == 0
        labelled = positive | negative
        total = labelled.sum()
        if total == 0:
            return zero_loss(cls_score)
        beta = negative.sum() / total
        loss = -(beta * log_p[:, 1][positive].sum() +
                 (1 - beta) * log_p[:, 0][negative].sum()) / total
        return self.loss_weight * loss
