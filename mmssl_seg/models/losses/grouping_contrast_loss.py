"""Pixel contrast over pairs sampled from a region tree (Zhang and Maire,
NeurIPS 2020, eq. 1)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn


@MODELS.register_module()
class GroupingContrastLoss(nn.Module):
    """Eq. 1 of the paper, for anchors ``i`` with positives ``Pos+(i)`` and
    negatives ``Neg+(i)``::

        p(i, m) = exp(s(i, m) / t) / (exp(s(i, m) / t)
                                      + sum_{n in Neg+(i)} exp(s(i, n) / t))

    with ``s`` the cosine similarity. The paper maximises ``sum p(i, m)``
    itself, with ``t = 1``: ``form='prob'``, the default, minimises ``-mean
    p``. ``form='log'`` minimises ``-mean log p``, the usual contrastive
    (InfoNCE / SegSort) form: with cosine similarities bounded to [-1, 1]
    and ``t = 1``, ``p`` stays within about [0.02, 0.6] for 15 negatives,
    where the probability's gradient ``p (1 - p)`` is small for the hardest
    pairs, while ``log p`` keeps the gradient ``1 - p``. No official code
    exists to settle which the authors trained with, so the printed eq. 1
    is the default.

    Args:
        form: ``prob`` (default: eq. 1 as printed) or ``log``.
        temperature: ``t`` (1.0: eq. 1 has none).
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, form: str = 'prob', temperature: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if form not in ('log', 'prob'):
            raise ValueError(f'form must be log or prob, got {form}')
        self.form = form
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, anchors: torch.Tensor, positives: torch.Tensor,
                pos_valid: torch.Tensor, negatives: torch.Tensor,
                neg_valid: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """
        Args:
            anchors: ``A x C`` features.
            positives: ``A x P x C``; ``pos_valid`` (``A x P`` bool) marks
                the real ones.
            negatives: ``A x N x C``; ``neg_valid`` (``A x N``).

        Returns:
            The loss (0 with a gradient path when no pair is usable) and the
            number of positive pairs used and of anchors without negatives.
        """
        # in at least float32 (AMP gives half-precision embeddings)
        exact = torch.promote_types(anchors.dtype, torch.float32)
        anchors, positives, negatives = (
            x.to(exact) for x in (anchors, positives, negatives))
        a = F.normalize(anchors, dim=-1)[:, None]
        s_pos = (a * F.normalize(positives, dim=-1)).sum(-1) / \
            self.temperature
        s_neg = (a * F.normalize(negatives, dim=-1)).sum(-1) / \
            self.temperature
        has_neg = neg_valid.any(1)
        # rows without negatives stay finite (they are left out below): an
        # all -inf logsumexp would send NaN through backward
        s_neg = s_neg.masked_fill(~neg_valid & has_neg[:, None],
                                  float('-inf'))
        # log p(i, m) = s_im - log(exp(s_im) + sum_n exp(s_in))
        neg_lse = torch.logsumexp(s_neg, dim=1, keepdim=True)
        log_p = s_pos - torch.logaddexp(s_pos, neg_lse)
        used = (pos_valid & has_neg[:, None]).to(log_p.dtype)
        values = log_p if self.form == 'log' else log_p.exp()
        count = used.sum()
        # a masked mean (no pair: 0, whose gradient is 0 but reaches every
        # input): no size depends on the data
        loss = -(values * used).sum() / count.clamp(min=1)
        return self.loss_weight * loss, {
            'pairs': count,
            'anchors_without_negative': (~has_neg).sum()
        }
