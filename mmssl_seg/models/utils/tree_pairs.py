"""Pixel pairs sampled from region trees (Zhang and Maire, NeurIPS 2020,
sec. 3 "Pixel Sampling from Region Metric" and "Augmented Reference
Sampling"), vectorised over the batch.

For each image ``num_anchors`` distinct regions are drawn uniformly among
those present and one anchor pixel in each. Positive regions are drawn with
eq. 2, ``P(R_b) ~ exp(-d_T(R_a, R_b) / sigma)`` over the present regions
with the anchor region's own weight cast to 1; negative regions with eq. 3,
``P(R_b) ~ exp(d_T(R_a, R_b) / sigma)`` over the other present regions.
A pixel is then drawn uniformly inside each chosen region. Cross-image
negatives (``cns``) are uniform pixels of other images of the batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class TreePairs:
    """Flat indices into the ``B x h x w`` grid the regions were given on.

    Attributes:
        anchors: ``A`` anchor pixels (``A = B x num_anchors``).
        positives: ``A x num_pos``.
        negatives: ``A x num_neg``.
        cross_image: ``A x cns`` negatives from other images.
        valid: ``A``: the anchor exists (enough regions) and has negatives.
        cross_valid: ``A x cns``: there was another image to draw from.
    """

    anchors: torch.Tensor
    positives: torch.Tensor
    negatives: torch.Tensor
    cross_image: torch.Tensor
    valid: torch.Tensor
    cross_valid: torch.Tensor


def region_probabilities(distances: torch.Tensor, anchor: torch.Tensor,
                         present: torch.Tensor, sigma: float
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Eqs. 2 and 3: positive and negative region probabilities.

    Args:
        distances: ``B x K x K`` d_T.
        anchor: ``B x S`` anchor regions.
        present: ``B x K`` which regions have pixels.

    Returns:
        ``B x S x K`` positive and negative probabilities (rows of an anchor
        without another region have zero negative mass).
    """
    d = torch.gather(distances, 1, anchor[..., None].expand(
        -1, -1, distances.shape[2]))
    mask = present[:, None, :].expand_as(d).float()
    own = torch.zeros_like(d, dtype=torch.bool).scatter_(
        2, anchor[..., None], True)
    pos = torch.where(own, torch.ones_like(d), torch.exp(-d / sigma)) * mask
    neg = torch.exp(d / sigma) * mask * (~own)
    pos = pos / pos.sum(-1, keepdim=True).clamp_min(1e-12)
    neg = neg / neg.sum(-1, keepdim=True).clamp_min(1e-12)
    return pos, neg


def sample_tree_pairs(regions: torch.Tensor, distances: torch.Tensor,
                      num_anchors: int = 7, num_pos: int = 10,
                      num_neg: int = 5, sigma: float = 0.8, cns: int = 0,
                      generator: torch.Generator | None = None) -> TreePairs:
    """Sample anchors, positives and negatives for a batch, on the device
    of ``regions`` with ``generator`` (on that device too): fixed shapes,
    nothing read back to the host.

    Args:
        regions: ``B x h x w`` leaf index per pixel (values >= K ignored).
        distances: ``B x K x K`` d_T per image (padded rows unused).
        num_anchors, num_pos, num_neg: Per image, per anchor (7, 10, 5).
        sigma: sigma_p of eqs. 2-3 (0.8).
        cns: Cross-image negatives per anchor (0, 5 or 20).
    """
    regions = regions.detach().long()
    distances = distances.detach().float().to(regions.device)
    device = regions.device
    b, h, w = regions.shape
    k = distances.shape[1]
    flat = regions.flatten(1)
    usable = flat < k
    image = torch.arange(b, device=device)[:, None].expand(b, h * w)
    key = torch.where(usable, image * k + flat, torch.full_like(flat, b * k))
    key = key.flatten()
    counts = torch.zeros(b * k + 1, dtype=torch.long, device=device)
    counts = counts.scatter_add_(0, key, torch.ones_like(key))[:b * k].view(
        b, k)  # pixels per region (a bincount of fixed size)
    order = torch.argsort(key, stable=True)
    starts = (counts.flatten().cumsum(0) - counts.flatten()).view(b, k)

    def pick(img: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
        n = counts[img, region]
        offset = (torch.rand(region.shape, generator=generator,
                             device=device) *
                  n).long().clamp(max=(n - 1).clamp_min(0))
        # an absent region (only in rows marked invalid) may point past the
        # end: any pixel will do there
        return order[(starts[img, region] + offset).clamp(max=len(order) - 1)]

    present = counts > 0
    s = min(num_anchors, k)
    gumbel = -torch.log(-torch.log(
        torch.rand((b, k), generator=generator, device=device).clamp(
            1e-12, 1 - 1e-7)))
    top = torch.where(present, gumbel, torch.full_like(gumbel, -torch.inf)
                      ).topk(s, dim=1)
    anchor_region = top.indices  # B x S, distinct
    exists = torch.isfinite(top.values)
    pos_p, neg_p = region_probabilities(distances, anchor_region, present,
                                        sigma)
    has_neg = neg_p.sum(-1) > 0
    valid = exists & has_neg
    # rows that cannot be sampled get a harmless uniform row, then masked
    safe = valid[..., None]
    pos_p = torch.where(safe, pos_p, torch.ones_like(pos_p)).view(-1, k)
    neg_p = torch.where(safe, neg_p, torch.ones_like(neg_p)).view(-1, k)
    pos_r = torch.multinomial(pos_p, num_pos, True, generator=generator)
    neg_r = torch.multinomial(neg_p, num_neg, True, generator=generator)
    img = torch.arange(b, device=device)[:, None].expand(b, s).reshape(-1)
    anchors = pick(img, anchor_region.reshape(-1))
    positives = pick(img[:, None].expand_as(pos_r), pos_r)
    negatives = pick(img[:, None].expand_as(neg_r), neg_r)
    if cns > 0 and b > 1:
        other = (img[:, None] + torch.randint(
            1, b, (len(img), cns), generator=generator, device=device)) % b
        cross = other * h * w + torch.randint(
            0, h * w, (len(img), cns), generator=generator, device=device)
        cross_valid = torch.ones(len(img), cns, dtype=torch.bool,
                                 device=device)
    else:
        cross = torch.zeros(len(img), cns, dtype=torch.long, device=device)
        cross_valid = torch.zeros(len(img), cns, dtype=torch.bool,
                                  device=device)
    return TreePairs(anchors, positives, negatives, cross,
                     valid.reshape(-1), cross_valid)


def map_between_views(flat: torch.Tensor, boxes: torch.Tensor,
                      grid: tuple[int, int], view: tuple[int, int],
                      src: int = 0, dst: int = 1
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Where the pixels ``flat`` (indices into ``B x h x w`` of view
    ``src``) fall in view ``dst``: ``grid_sample`` coordinates in [-1, 1]
    (``... x 2``, x first) and whether they lie inside that view.

    Args:
        boxes: ``B x V x 5`` per view the crop ``(y, x, h, w)`` in the
            original image and 1 where it was flipped afterwards.
        grid: ``(h, w)`` of the feature grid.
        view: ``(H, W)`` of the view images.
    """
    h, w = grid
    vh, vw = view
    boxes = boxes.to(flat.device).float()
    n = flat // (h * w)
    fy = ((flat // w) % h).float()
    fx = (flat % w).float()
    vy = (fy + 0.5) * vh / h
    vx = (fx + 0.5) * vw / w
    y0, x0, bh, bw, flip = boxes[n, src].unbind(-1)
    vx = torch.where(flip > 0, vw - vx, vx)
    iy = y0 + vy * bh / vh
    ix = x0 + vx * bw / vw
    y1, x1, bh1, bw1, flip1 = boxes[n, dst].unbind(-1)
    ty = (iy - y1) * vh / bh1
    tx = (ix - x1) * vw / bw1
    inside = (ty >= 0) & (ty < vh) & (tx >= 0) & (tx < vw)
    tx = torch.where(flip1 > 0, vw - tx, tx)
    coords = torch.stack([tx / vw * 2 - 1, ty / vh * 2 - 1], -1)
    return coords, inside
