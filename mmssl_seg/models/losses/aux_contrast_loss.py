"""Confidence-weighted pixel contrast guided by auxiliary labels (Zhang et
al., NeurIPS 2021, sec. 3, eqs. 1-2), computed in anchor chunks so that
memory grows with the chunk, not with anchors x candidates."""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn


class PixelMeta(NamedTuple):
    """What the loss needs to know about each sampled pixel (all ``N``
    long tensors). ``label < 0`` marks a pixel without an auxiliary label
    (it takes part in no pair); ``pixel`` identifies a pixel globally so
    that no pixel is paired with itself (memory-bank entries use -1)."""
    label: torch.Tensor
    superpixel: torch.Tensor
    image: torch.Tensor
    pixel: torch.Tensor


def _chunk_pairs(a_meta: Sequence[torch.Tensor],
                 c_meta: Sequence[torch.Tensor], weights: torch.Tensor
                 ) -> tuple[torch.Tensor, ...]:
    """The pairs of one chunk of anchors with every candidate: positive and
    negative masks, the confidence weight of every positive pair (0
    elsewhere), the rows that take part, and the counts."""
    a_label, a_sp, a_img, a_pix = a_meta
    c_label, c_sp, c_img, c_pix = c_meta
    valid = (a_label[:, None] >= 0) & (c_label[None] >= 0) & (
        a_pix[:, None] != c_pix[None])
    same = a_label[:, None] == c_label[None]
    positive = valid & same
    negative = valid & ~same
    has_pos, has_neg = positive.any(1), negative.any(1)
    used = has_neg & has_pos
    positive &= used[:, None]
    same_image = a_img[:, None] == c_img[None]
    level = torch.where(same_image & (a_sp[:, None] == c_sp[None]), 0,
                        torch.where(same_image, 1, 2))  # P0, P1, P2
    w = weights[level] * positive
    counts = torch.stack([
        (positive & (level == k)).sum() for k in range(3)
    ] + [(~has_pos).sum(), (has_pos & ~has_neg).sum()])
    return negative, has_neg, w, counts


def _chunk_terms(anchors: torch.Tensor, candidates: torch.Tensor,
                 a_meta: Sequence[torch.Tensor],
                 c_meta: Sequence[torch.Tensor], temperature: float,
                 weights: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Weighted loss sum, weight sum and counts of one chunk of anchors, by
    autograd (the dense reference form)."""
    negative, has_neg, w, counts = _chunk_pairs(a_meta, c_meta, weights)
    logits = anchors @ candidates.T / temperature  # chunk x M
    # log sum_n exp(v.v-/tau); rows without a negative are unused, and get
    # a finite stand-in (an all -inf logsumexp would give NaN gradients)
    lse_neg = torch.logsumexp(
        logits.masked_fill(~negative & has_neg[:, None], -float('inf')),
        dim=1)
    # eq. 1: -log(e^p / (e^p + sum_n e^n)) = softplus(lse_neg - p)
    per_pair = F.softplus(lse_neg[:, None] - logits)
    return (per_pair * w).sum(), w.sum(), counts


def _same_pixel(a_pix: torch.Tensor, sorted_pix: torch.Tensor,
                order: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (anchor, candidate) index pair with the same pixel id, given
    the candidates' ids sorted (``sorted_pix = c_pix[order]``)."""
    left = torch.searchsorted(sorted_pix, a_pix)
    matches = torch.searchsorted(sorted_pix, a_pix, right=True) - left
    rows = torch.repeat_interleave(
        torch.arange(len(a_pix), device=a_pix.device), matches)
    first = torch.cumsum(matches, 0) - matches  # rows' first match
    offset = torch.arange(len(rows), device=a_pix.device) - first[rows]
    return rows, order[left[rows] + offset]


class _ChunkedContrast(torch.autograd.Function):
    """Eqs. 1-2 over anchor chunks with the gradients computed in the same
    pass, in closed form (no second pass, no stored logits).

    With ``z = a.c / tau``, ``lse_i = log sum_{n in N(i)} e^{z_in}`` and the
    total weight ``W``, the loss ``sum_ij w_ij softplus(lse_i - z_ij) / W``
    has ``dL/dz_ij = -w_ij sigmoid(lse_i - z_ij) / W`` for a positive pair
    and ``e^{z_in - lse_i} sum_{k in P(i)} w_ik sigmoid(lse_i - z_ik) / W``
    for a negative one; then ``dL/da = G c / tau`` and ``dL/dc = G^T a /
    tau``. Positive pairs and the anchor's own pixel are handled as lists
    (a few % of the pairs), the negatives as one masked array: a chunk
    holds one float and one boolean ``chunk x M`` array (about 8 bytes per
    pair with the lists); only the ``N x C`` and ``M x C`` gradients are
    kept.
    """

    @staticmethod
    def forward(ctx, anchors, candidates, temperature, weights, chunk_size,
                *meta):
        a_label, a_sp, a_img, a_pix = meta[:4]
        need_a, need_c = ctx.needs_input_grad[:2]
        grad_a = torch.zeros_like(anchors)
        loss_sum = anchors.new_zeros(())
        weight_sum = anchors.new_zeros(())
        counts = torch.zeros(5, dtype=torch.long, device=anchors.device)
        # unlabelled candidates take part in no pair: drop their columns
        # once, so that one chunk x candidates boolean (same label) is the
        # only mask a chunk needs
        c_ok = meta[4] >= 0
        every = bool(c_ok.all())
        cands = candidates if every else candidates[c_ok]
        c_label, c_sp, c_img, c_pix = (m if every else m[c_ok]
                                       for m in meta[4:])
        grad_c = torch.zeros_like(cands)
        c_pix_sorted, c_pix_order = torch.sort(c_pix)
        for start in range(0, len(anchors), chunk_size):
            part = slice(start, start + chunk_size)
            a = anchors[part]
            a_ok = a_label[part] >= 0
            same = a_label[part][:, None] == c_label[None]
            same &= a_ok[:, None]
            # an anchor is never paired with its own pixel: those few
            # (anchor, candidate) pairs as a list, from the sorted pixel ids
            self_rows, self_cols = _same_pixel(a_pix[part], c_pix_sorted,
                                               c_pix_order)
            rows, cols = same.nonzero(as_tuple=True)
            # negatives: the other-label candidates of a labelled anchor
            # (counted from the lists: a sum over the boolean array would
            # make an int64 copy of it)
            other_self = a_ok[self_rows] & (
                a_label[part][self_rows] != c_label[self_cols])
            has_neg = a_ok & (
                len(cands) - torch.bincount(rows, minlength=len(a_ok)) >
                torch.bincount(self_rows[other_self], minlength=len(a_ok)))
            # positives: same label, not the anchor's own pixel, of anchors
            # with a positive and a negative (one filter of the lists)
            keep = a_pix[part][rows] != c_pix[cols]
            has_pos = torch.zeros_like(a_ok).index_fill_(0, rows[keep], True)
            keep &= (has_pos & has_neg)[rows]
            rows, cols = rows[keep], cols[keep]
            del keep
            z = (a / temperature) @ cands.T  # no second chunk-sized array
            margin = -z[rows, cols]
            z.masked_fill_(same, -float('inf'))
            del same
            z[~a_ok] = -float('inf')  # unlabelled anchors: no negatives
            z[self_rows, self_cols] = -float('inf')
            same_image = a_img[part][rows] == c_img[cols]
            same_sp = same_image & (a_sp[part][rows] == c_sp[cols])
            w = torch.where(same_sp, weights[0], torch.where(
                same_image, weights[1], weights[2]))  # P0, P1, P2
            counts += torch.stack([
                same_sp.sum(), (same_image & ~same_sp).sum(),
                (~same_image).sum(), (~has_pos).sum(),
                (has_pos & ~has_neg).sum()])
            # log-sum-exp over the negatives in place (no second chunk x
            # candidates array): rows without a negative get lse = 0
            top = z.new_zeros(len(z))
            if z.shape[1]:  # no candidate at all: no negative either
                top = torch.where(has_neg, z.max(1).values, top)
            grad = z.sub_(top[:, None]).exp_()  # e^{z - top}, 0 elsewhere
            total = grad.sum(1)
            lse = torch.where(has_neg, top + total.log(),
                              torch.zeros_like(top))
            margin += lse[rows]
            loss_sum += (F.softplus(margin) * w).sum()
            weight_sum += w.sum()
            pull = torch.sigmoid(margin) * w  # -W dL/dz of the positives
            # negatives: e^{z - lse} x the row's total pull, one pass
            grad.mul_((torch.zeros_like(lse).index_add_(0, rows, pull) /
                       total.clamp(min=torch.finfo(total.dtype).tiny))[:,
                                                                      None])
            grad.index_put_((rows, cols), -pull, accumulate=True)
            if need_a:
                grad_a[part] = grad @ cands
            if need_c:  # bank candidates need none
                grad_c.addmm_(grad.T, a)
            del z, grad
        if not every:
            grad_c = candidates.new_zeros(candidates.shape).index_copy_(
                0, c_ok.nonzero()[:, 0], grad_c)
        scale = 1.0 / (temperature * weight_sum.clamp(min=1e-12))
        ctx.save_for_backward(grad_a * scale, grad_c * scale)
        loss = loss_sum / weight_sum.clamp(min=1e-12)
        ctx.mark_non_differentiable(counts)
        return loss, counts

    @staticmethod
    def backward(ctx, grad_loss, grad_counts):
        grad_a, grad_c = ctx.saved_tensors
        return (grad_a * grad_loss, grad_c * grad_loss, None, None, None,
                *([None] * 8))


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

    Memory and time: anchors are processed ``chunk_size`` at a time and each
    chunk's gradients with respect to anchors and candidates are computed in
    closed form in the same pass as its loss (:class:`_ChunkedContrast`), so
    only the ``chunk x candidates`` arrays of one chunk live at a time and
    backward is a multiplication. Values and gradients equal the dense
    autograd computation (``chunk_size=None``).

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
        # at least float32 whatever autocast made of the features (a mixed-
        # precision step gives half-precision anchors and keys but float32
        # bank rows; exp / log-sum-exp over thousands of candidates wants
        # float32 too), and outside autocast; float64 inputs stay float64
        dtype = torch.promote_types(
            torch.promote_types(anchors.dtype, candidates.dtype),
            torch.float32)
        with torch.autocast(anchors.device.type, enabled=False):
            loss, counts = self._loss(anchors.to(dtype), anchor_meta,
                                      candidates.to(dtype), candidate_meta)
        stats = dict(zip(('pairs_p0', 'pairs_p1', 'pairs_p2',
                          'anchors_without_positive',
                          'anchors_without_negative'), counts.tolist()))
        return self.loss_weight * loss, stats

    def _loss(self, anchors: torch.Tensor, anchor_meta: PixelMeta,
              candidates: torch.Tensor, candidate_meta: PixelMeta
              ) -> tuple[torch.Tensor, torch.Tensor]:
        weights = self.weights.to(anchors.dtype)
        if self.chunk_size:
            loss, counts = _ChunkedContrast.apply(
                anchors, candidates, self.temperature, weights,
                self.chunk_size, *anchor_meta, *candidate_meta)
            # a graph even without anchors (DDP, the optimizer expect one)
            loss = loss + anchors.sum() * 0.0
        else:
            loss_sum, weight_sum, counts = _chunk_terms(
                anchors, candidates, list(anchor_meta), list(candidate_meta),
                self.temperature, weights)
            loss = loss_sum / weight_sum.detach().clamp(min=1e-12)
            loss = loss + anchors.sum() * 0.0
        return loss, counts
