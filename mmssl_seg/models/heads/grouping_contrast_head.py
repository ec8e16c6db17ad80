"""The pixel-contrast head of hierarchical grouping (Zhang and Maire,
NeurIPS 2020, sec. 3): pairs from the region tree, their augmented
references in the second view, cross-image negatives, eq. 1."""
from __future__ import annotations

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from mmssl_seg.models.utils.point_sampling import sample_points
from mmssl_seg.models.utils.tree_pairs import (map_between_views,
                                               sample_tree_pairs)


def _at(features: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
    """``features`` (``B x C x h x w``) at flat indices into ``B x h x w``
    (any shape) -> ``flat.shape x C``."""
    b, c, h, w = features.shape
    rows = features.permute(0, 2, 3, 1).reshape(b * h * w, c)
    return rows[flat.reshape(-1).to(features.device)].view(*flat.shape, c)


def _sample(features: torch.Tensor, flat: torch.Tensor,
            coords: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of ``features`` at ``coords`` (``... x 2`` in
    [-1, 1]) in the image each flat index belongs to."""
    b, c, h, w = features.shape
    image = (flat // (h * w)).reshape(-1)
    return sample_points(features, image, coords.reshape(-1, 2)).view(
        *flat.shape, c)


@MODELS.register_module()
class GroupingContrastHead(BaseModule):
    """Samples pixel pairs by tree distance and applies eq. 1.

    Per image ``num_anchors`` anchor regions, per anchor ``num_pos``
    positives (eq. 2) and ``num_neg`` negatives (eq. 3) in the first view;
    with ``augmented`` the same scene points looked up in the second view
    join Pos+ and Neg+ (those that left the view are dropped); ``cns``
    negatives per anchor come from other images of the batch.

    Args:
        num_anchors / num_pos / num_neg: 7 / 10 / 5 (sec. 4.2).
        sigma: sigma_p of eqs. 2-3 (0.8).
        cns: Cross-image negatives per anchor (0, 5 or 20).
        augmented: Add the second view's references.
        loss: Config of :class:`GroupingContrastLoss`.
    """

    def __init__(self, num_anchors: int = 7, num_pos: int = 10,
                 num_neg: int = 5, sigma: float = 0.8, cns: int = 5,
                 augmented: bool = True,
                 loss: dict = dict(type='GroupingContrastLoss'),
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.num_anchors = num_anchors
        self.num_pos = num_pos
        self.num_neg = num_neg
        self.sigma = sigma
        self.cns = cns
        self.augmented = augmented
        self.loss_fn = MODELS.build(loss)

    def loss(self, embeddings: list[torch.Tensor], regions: torch.Tensor,
             distances: torch.Tensor, boxes: torch.Tensor,
             view_size: tuple[int, int],
             generator: torch.Generator | None = None) -> dict:
        """
        Args:
            embeddings: Per view ``B x C x h x w``.
            regions: ``B x h x w`` leaf ids of the first view at the
                embedding's resolution.
            distances: ``B x K x K`` d_T.
            boxes: ``B x V x 5`` view geometry (:class:`RegionViews`).
            view_size: ``(H, W)`` of the views.
        """
        first = embeddings[0]
        grid = tuple(first.shape[2:])
        pairs = sample_tree_pairs(regions, distances, self.num_anchors,
                                  self.num_pos, self.num_neg, self.sigma,
                                  self.cns, generator)
        device = first.device
        valid = pairs.valid.to(device)
        anchors = _at(first, pairs.anchors)
        positives = [_at(first, pairs.positives)]
        pos_valid = [valid[:, None].expand(-1, self.num_pos)]
        negatives = [_at(first, pairs.negatives)]
        neg_valid = [valid[:, None].expand(-1, self.num_neg)]
        if self.augmented and len(embeddings) > 1:
            for flat, feats, masks, ok in (
                    (pairs.positives, positives, pos_valid, valid),
                    (pairs.negatives, negatives, neg_valid, valid)):
                coords, inside = map_between_views(flat, boxes, grid,
                                                   view_size)
                feats.append(_sample(embeddings[1], flat, coords))
                masks.append(inside.to(device) & ok[:, None])
        if self.cns:
            negatives.append(_at(first, pairs.cross_image))
            neg_valid.append(pairs.cross_valid.to(device) & valid[:, None])
        loss, stats = self.loss_fn(
            anchors, torch.cat(positives, 1), torch.cat(pos_valid, 1),
            torch.cat(negatives, 1), torch.cat(neg_valid, 1))
        return {
            'loss_grouping': loss,
            'pairs': torch.tensor(float(stats['pairs']), device=device),
            'anchors_skipped': torch.tensor(
                float((~pairs.valid).sum()), device=device),
        }
