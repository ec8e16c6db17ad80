"""Confidence-weighted pixel contrast guided by auxiliary labels (Zhang et
al., NeurIPS 2021, sec. 3, eqs. 1-2), computed in anchor chunks so that
memory grows with the chunk, not with anchors x candidates, and with fixed
shapes throughout: no value or size is read back to the host."""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn

#: The statistics the loss returns (0-d tensors), in this order.
STAT_NAMES = ('pairs_p0', 'pairs_p1', 'pairs_p2', 'anchors_without_positive',
              'anchors_without_negative')


class PixelMeta(NamedTuple):
    """What the loss needs to know about each sampled pixel (all ``N``
    long tensors). ``label < 0`` marks a pixel without an auxiliary label
    (it takes part in no pair: unlabelled, or a padding row of a fixed-size
    sample); ``pixel`` identifies a pixel globally so that no pixel is
    paired with itself (memory-bank entries use -1)."""
    label: torch.Tensor
    superpixel: torch.Tensor
    image: torch.Tensor
    pixel: torch.Tensor


def _pairs(a_meta: Sequence[torch.Tensor], c_meta: Sequence[torch.Tensor],
           weights: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The pairs of a chunk of anchors with every candidate, as dense masks:
    the negatives (another label), the confidence weight of every positive
    pair of an anchor that has a positive and a negative (0 elsewhere), the
    rows with a negative, and the counts (:data:`STAT_NAMES`)."""
    a_label, a_sp, a_img, a_pix = a_meta
    c_label, c_sp, c_img, c_pix = c_meta
    a_ok = a_label >= 0
    valid = (a_pix[:, None] != c_pix[None]) & (c_label >= 0)[None] & \
        a_ok[:, None]  # labelled, and never the anchor's own pixel
    same = a_label[:, None] == c_label[None]
    negative = valid & ~same
    positive = valid & same
    has_pos, has_neg = positive.any(1), negative.any(1)
    positive &= (has_pos & has_neg)[:, None]
    same_image = a_img[:, None] == c_img[None]
    same_sp = (a_sp[:, None] == c_sp[None]) & same_image
    w = torch.where(same_sp, weights[0], torch.where(
        same_image, weights[1], weights[2])) * positive  # P0, P1, P2
    # pairs per level from three sums (same_sp lies within same_image)
    every, image, superpixel = (positive.sum(), (positive & same_image).sum(),
                                (positive & same_sp).sum())
    counts = torch.stack([superpixel, image - superpixel, every - image,
                          (a_ok & ~has_pos).sum(),
                          (a_ok & has_pos & ~has_neg).sum()])
    return negative, has_neg, w, counts


def compute_dtype(anchors: torch.Tensor,
                  candidates: torch.Tensor) -> torch.dtype:
    """At least float32 whatever autocast made of the features (a
    mixed-precision step gives half-precision anchors and keys but float32
    bank rows; logits up to 1 / tau and the exp / log-sum-exp over
    thousands of candidates want float32); float64 stays float64."""
    return torch.promote_types(
        torch.promote_types(anchors.dtype, candidates.dtype), torch.float32)


def _logits(anchors: torch.Tensor, candidates: torch.Tensor,
            temperature: float) -> torch.Tensor:
    """``a . c / tau`` in :func:`compute_dtype`."""
    dtype = compute_dtype(anchors, candidates)
    return (anchors.to(dtype) @ candidates.to(dtype).T) / temperature


def _chunk_terms(anchors: torch.Tensor, candidates: torch.Tensor,
                 a_meta: Sequence[torch.Tensor],
                 c_meta: Sequence[torch.Tensor], temperature: float,
                 weights: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Weighted loss sum, weight sum and counts of the anchors against every
    candidate, by autograd (the dense reference form)."""
    negative, has_neg, w, counts = _pairs(a_meta, c_meta, weights)
    logits = _logits(anchors, candidates, temperature)  # A x M
    # log sum_n exp(v.v-/tau); rows without a negative are unused, and get
    # a finite stand-in (an all -inf logsumexp would give NaN gradients)
    lse_neg = torch.logsumexp(
        logits.masked_fill(~negative & has_neg[:, None], -float('inf')),
        dim=1)
    # eq. 1: -log(e^p / (e^p + sum_n e^n)) = softplus(lse_neg - p)
    per_pair = F.softplus(lse_neg[:, None] - logits)
    return (per_pair * w).sum(), w.sum(), counts


def _pad(value: torch.Tensor, rows: int, fill: float = 0) -> torch.Tensor:
    """``value`` with ``rows`` more rows of ``fill``."""
    return F.pad(value, (0, 0) * (value.dim() - 1) + (0, rows), value=fill)


class _ChunkedContrast(torch.autograd.Function):
    """Eqs. 1-2 over equal anchor chunks with the gradients computed in the
    same pass, in closed form (no second pass, no stored logits).

    With ``z = a.c / tau``, ``lse_i = log sum_{n in N(i)} e^{z_in}`` and the
    total weight ``W``, the loss ``sum_ij w_ij softplus(lse_i - z_ij) / W``
    has ``dL/dz_ij = -w_ij sigmoid(lse_i - z_ij) / W`` for a positive pair
    and ``e^{z_in - lse_i} sum_{k in P(i)} w_ik sigmoid(lse_i - z_ik) / W``
    for a negative one; then ``dL/da = G c / tau`` and ``dL/dc = G^T a /
    tau``. Every pair is a dense ``chunk x M`` mask, so a chunk holds a few
    such arrays (about 20 bytes per pair) and the counts stay on the
    device; anchors are padded with unlabelled rows to whole chunks.
    """

    @staticmethod
    def forward(ctx, anchors, candidates, temperature, weights, chunk_size,
                *meta):
        n = len(anchors)
        chunks = -(-n // chunk_size)
        pad = chunks * chunk_size - n
        a_all = _pad(anchors, pad)
        a_meta = [_pad(m[:, None], pad, -1)[:, 0] for m in meta[:4]]
        c_meta = meta[4:]
        dtype = compute_dtype(anchors, candidates)
        grad_a = torch.zeros(a_all.shape, dtype=dtype, device=anchors.device)
        grad_c = torch.zeros(candidates.shape, dtype=dtype,
                             device=anchors.device)
        loss_sum = grad_a.new_zeros(())
        weight_sum = grad_a.new_zeros(())
        counts = torch.zeros(5, dtype=torch.long, device=anchors.device)
        cands = candidates.to(dtype)
        weights = weights.to(dtype)
        for start in range(0, len(a_all), chunk_size):
            part = slice(start, start + chunk_size)
            a = a_all[part].to(dtype)
            negative, has_neg, w, chunk_counts = _pairs(
                [m[part] for m in a_meta], c_meta, weights)
            counts += chunk_counts
            z = _logits(a, cands, temperature)
            # log-sum-exp over the negatives: rows without a negative get 0
            z_neg = torch.where(negative, z, -float('inf'))
            top = torch.where(has_neg, z_neg.max(1).values,
                              torch.zeros_like(has_neg, dtype=z.dtype))
            e = torch.exp(z_neg - top[:, None])  # e^{z - top}, 0 elsewhere
            total = e.sum(1)
            lse = torch.where(has_neg, top + total.clamp_min(
                torch.finfo(total.dtype).tiny).log(), torch.zeros_like(top))
            margin = lse[:, None] - z
            loss_sum += (F.softplus(margin) * w).sum()
            # the total weight from the counts: sum_l lambda_l |P_l|
            weight_sum += (chunk_counts[:3].to(dtype) * weights).sum()
            pull = torch.sigmoid(margin) * w  # -W dL/dz of the positives
            grad = e * (pull.sum(1) / total.clamp_min(
                torch.finfo(total.dtype).tiny))[:, None] - pull
            grad_a[part] = grad @ cands
            grad_c.addmm_(grad.T, a)
        scale = 1.0 / (temperature * weight_sum.clamp(min=1e-12))
        ctx.save_for_backward(grad_a[:n] * scale, grad_c * scale)
        ctx.dtypes = (anchors.dtype, candidates.dtype)
        loss = loss_sum / weight_sum.clamp(min=1e-12)
        ctx.mark_non_differentiable(counts)
        return loss, counts

    @staticmethod
    def backward(ctx, grad_loss, grad_counts):
        grad_a, grad_c = ctx.saved_tensors
        a_dtype, c_dtype = ctx.dtypes
        return ((grad_a * grad_loss).to(a_dtype),
                (grad_c * grad_loss).to(c_dtype), None, None, None,
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

    Memory and time: anchors are processed ``chunk_size`` at a time (default
    ``None``: as many as the device's budget, ``memory_mb`` on a GPU and
    ``cpu_memory_mb`` on a CPU, holds with every candidate) and each
    chunk's gradients with respect to anchors and candidates are computed
    in closed form in the same pass as its loss (:class:`_ChunkedContrast`),
    so only the ``chunk x candidates`` arrays of one chunk live at a time
    and backward is a multiplication. Values and gradients equal the dense
    autograd computation (``chunk_size=0``). Nothing is read back from the
    device: the statistics are 0-d tensors.

    Args:
        temperature: tau (0.07).
        weights: (lambda_0, lambda_1, lambda_2); ``(1, 1, 1)`` is the
            ablation without confidence weighting.
        chunk_size: Anchors per chunk; ``None``: from the memory budget;
            0: dense autograd.
        memory_mb: The memory one chunk may take on a GPU (about 20 bytes
            a pair): large chunks, few launches.
        cpu_memory_mb: The same on a CPU, where chunks that stay in the
            caches are faster (on 2 cores, 2000 anchors x 6000 candidates:
            0.30 s at 16 MB, 0.70 s in one chunk).
        loss_weight: Scale of the loss.
    """

    #: Bytes a chunk holds per (anchor, candidate) pair: four float32 and a
    #: few boolean arrays of chunk x candidates.
    BYTES_PER_PAIR = 20

    def __init__(self,
                 temperature: float = 0.07,
                 weights: Sequence[float] = (10.0, 4.0, 1.0),
                 chunk_size: int | None = None,
                 memory_mb: float = 1024.0,
                 cpu_memory_mb: float = 16.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = temperature
        self.register_buffer('weights', torch.tensor(weights,
                                                     dtype=torch.float32),
                             persistent=False)
        self.chunk_size = chunk_size
        self.memory_mb = memory_mb
        self.cpu_memory_mb = cpu_memory_mb
        self.loss_weight = loss_weight

    def chunk_rows(self, anchors: int, candidates: int,
                   device: torch.device | str = 'cuda') -> int:
        """Anchors per chunk: ``chunk_size``, or what the memory budget of
        ``device`` holds."""
        if self.chunk_size is not None:
            return min(self.chunk_size, anchors) if self.chunk_size else 0
        budget = self.memory_mb if torch.device(device).type != 'cpu' \
            else self.cpu_memory_mb
        rows = int(budget * 2**20 /
                   (self.BYTES_PER_PAIR * max(candidates, 1)))
        return max(1, min(anchors, rows))

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
            The loss (in :func:`compute_dtype`) and the counts (0-d
            tensors): positive pairs per level (``pairs_p0..2``), labelled
            anchors without a positive / without a negative.
        """
        weights = self.weights.to(anchors.device)
        chunk = self.chunk_rows(len(anchors), len(candidates),
                                anchors.device)
        # outside autocast: exp / log-sum-exp over thousands of candidates
        with torch.autocast(anchors.device.type, enabled=False):
            if chunk:
                loss, counts = _ChunkedContrast.apply(
                    anchors, candidates, self.temperature, weights, chunk,
                    *anchor_meta, *candidate_meta)
            else:
                loss_sum, weight_sum, counts = _chunk_terms(
                    anchors, candidates, list(anchor_meta),
                    list(candidate_meta), self.temperature,
                    weights.to(compute_dtype(anchors, candidates)))
                loss = loss_sum / weight_sum.detach().clamp(min=1e-12)
        return self.loss_weight * loss, dict(zip(STAT_NAMES, counts))
