"""Confidence-weighted pixel contrast guided by auxiliary labels (Zhang et
al., NeurIPS 2021, sec. 3, eqs. 1-2), computed in anchor chunks so that
memory grows with the chunk, not with anchors x candidates."""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn
from torch.utils.checkpoint import checkpoint


class PixelMeta(NamedTuple):
    """What the loss needs to know about each sampled pixel (all ``N``
    long tensors). ``label < 0`` marks a pixel without an auxiliary label
    (it takes part in no pair); ``pixel`` identifies a pixel globally so
    that no pixel is paired with itself (memory-bank entries use -1)."""
    label: torch.Tensor
    superpixel: torch.Tensor
    image: torch.Tensor
    pixel: torch.Tensor


def _chunk_terms(anchors: torch.Tensor, candidates: torch.Tensor,
                 a_meta: Sequence[torch.Tensor],
                 c_meta: Sequence[torch.Tensor], temperature: float,
                 weights: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Weighted loss sum, weight sum and counts of one chunk of anchors."""
    a_label, a_sp, a_img, a_pix = a_meta
    c_label, c_sp, c_img, c_pix = c_meta
    logits = anchors @ candidates.T / temperature  # chunk x M
    valid = (a_label[:, None] >= 0) & (c_label[None] >= 0) & (
        a_pix[:, None] != c_pix[None])
    same = a_label[:, None] == c_label[None]
    positive = valid & same
    negative = valid & ~same
    has_neg = negative.any(1)
    # log sum_n exp(v.v-/tau); rows without a negative are unused, and get
    # a finite stand-in (an all -inf logsumexp would give NaN gradients)
    lse_neg = torch.logsumexp(
        logits.masked_fill(~negative & has_neg[:, None], -float('inf')),
        dim=1)
    has_pos = positive.any(1)
    used = has_neg & has_pos
    positive = positive & used[:, None]
    same_image = a_img[:, None] == c_img[None]
    level = torch.where(same_image & (a_sp[:, None] == c_sp[None]), 0,
                        torch.where(same_image, 1, 2))  # P0, P1, P2
    w = weights[level] * positive
    # eq. 1: -log(e^p / (e^p + sum_n e^n)) = softplus(lse_neg - p)
    per_pair = F.softplus(lse_neg[:, None] - logits)
    loss_sum = (per_pair * w).sum()
    counts = torch.stack([
        (positive & (level == k)).sum() for k in range(3)
    ] + [(~has_pos).sum(), (has_pos & ~has_neg).sum()])
    return loss_sum, w.sum(), counts


@MODELS.register_module()
class AuxLabelContrastLoss(nn.Module):
    """Eqs. 1-2 of the auxiliary-label paper. For anchor ``v`` and each
    positive ``v+`` (a candidate with the same auxiliary label, never the
    anchor pixel itself)::

        L(v, v+) = -log exp(v.v+/t) / (exp(v.v+/t) + sum_{v-} exp(v.v-/t))

    over the negatives ``v-`` (candidates with another label); the total is
    the confidence-weighted mean over all positive pairs::

        L = sum_i lambda_i sum_{P_i} L(v, v+) / sum_i lambda_i |P_i|

    with ``P_0`` the pairs in one superpixel, ``P_1`` in one image, ``P_2``
    across images and ``lambda = (10, 4, 1)``.

    Anchors without a positive or without a negative take no part (they are
    counted); with no pair at all the loss is 0 with a zero gradient.

    Memory: anchors are processed ``chunk_size`` at a time and each chunk's
    ``chunk x candidates`` logits are recomputed in backward (activation
    checkpointing) instead of kept, so peak memory grows with the chunk, not
    with the 10k x 40k pairs. Values and gradients equal the dense
    computation (``chunk_size=None``).

    Args:
        temperature: tau (0.07).
        weights: (lambda_0, lambda_1, lambda_2); ``(1, 1, 1)`` is the
            ablation without confidence weighting.
        chunk_size: Anchors per chunk; ``None`` computes densely.
        loss_weight: Scale of the loss.
    """

    def __init__(self,
                 temperature: float = 0.07,
                 weights: Sequence[float] = (10.0, 4.0, 1.0),
                 chunk_size: int | None = 1024,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = temperature
        self.register_buffer('weights', torch.tensor(weights,
                                                     dtype=torch.float32),
                             persistent=False)
        self.chunk_size = chunk_size
        self.loss_weight = loss_weight

    def forward(self, anchors: torch.Tensor, anchor_meta: PixelMeta,
                candidates: torch.Tensor, candidate_meta: PixelMeta
                ) -> tuple[torch.Tensor, dict]:
        """
        Args:
            anchors: ``N x C`` L2-normalised anchor features.
            anchor_meta: Their labels, superpixels, images, pixel ids.
            candidates: ``M x C`` L2-normalised contrast features (batch and
                memory bank).
            candidate_meta: Theirs.

        Returns:
            The loss and counts: positive pairs per level (``pairs_p0..2``),
            anchors without a positive / without a negative.
        """
        weights = self.weights.to(anchors.dtype)
        step = self.chunk_size or len(anchors)
        loss_sum = anchors.sum() * 0.0  # a graph even without anchors
        weight_sum = anchors.new_zeros(())
        counts = torch.zeros(5, dtype=torch.long, device=anchors.device)
        for start in range(0, len(anchors), step):
            part = slice(start, start + step)
            args = (anchors[part], candidates, [m[part] for m in anchor_meta],
                    list(candidate_meta), self.temperature, weights)
            if self.chunk_size and torch.is_grad_enabled() and (
                    anchors.requires_grad or candidates.requires_grad):
                terms = checkpoint(_chunk_terms, *args, use_reentrant=False)
            else:
                terms = _chunk_terms(*args)
            loss_sum = loss_sum + terms[0]
            weight_sum = weight_sum + terms[1].detach()
            counts += terms[2]
        loss = loss_sum / weight_sum.clamp(min=1e-12)
        stats = dict(zip(('pairs_p0', 'pairs_p1', 'pairs_p2',
                          'anchors_without_positive',
                          'anchors_without_negative'), counts.tolist()))
        return self.loss_weight * loss, stats
