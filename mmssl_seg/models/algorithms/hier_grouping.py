"""Hierarchical grouping (Zhang and Maire, "Self-Supervised Visual
Representation Learning from Hierarchical Grouping", NeurIPS 2020)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmssl_seg.models.algorithms.base import BaseSelfSupervised
from mmssl_seg.models.utils.point_sampling import sample_grouped_points
from mmssl_seg.models.utils.tree_pairs import (
    map_between_views,
    sample_tree_pairs,
)


def _at(features: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
    """``features`` (``B x C x h x w``) at flat indices into ``B x h x w``
    (any shape) -> ``flat.shape x C``."""
    b, c, h, w = features.shape
    rows = features.permute(0, 2, 3, 1).reshape(b * h * w, c)
    return rows[flat.reshape(-1).to(features.device)].view(*flat.shape, c)


@MODELS.register_module()
class HierarchicalGrouping(BaseSelfSupervised):
    """A from-scratch backbone and a hypercolumn neck give a 32-d pixel
    embedding; pixel pairs are sampled from each image's region tree by
    tree distance (eqs. 2-3) and contrasted with eq. 1.

    The whole step::

        emb_v = neck(backbone(view_v))            # B x 32 x H/4 x W/4
        pairs ~ tree(leaves of view 1, d_T)       # anchors, Pos, Neg, cns
        Pos+, Neg+ = pairs in view 1 + the same scene points in view 2
        loss = head(emb_1[anchors], Pos+, Neg+)   # eq. 1

    Per image ``num_anchors`` anchor regions, per anchor ``num_pos``
    positives (eq. 2) and ``num_neg`` negatives (eq. 3) in the first view;
    with ``augmented`` the same scene points looked up in the second view
    join Pos+ and Neg+ (those that left the view are dropped); ``cns``
    negatives per anchor come from other images of the batch.

    Args:
        backbone: Backbone config (ResNet-50, strides unchanged, outputs of
            Res3 and Res4).
        neck: :class:`HypercolumnNeck` config.
        head: :class:`GroupingContrastHead` config (eq. 1).
        num_anchors / num_pos / num_neg: 7 / 10 / 5 (sec. 4.2).
        sigma: sigma_p of eqs. 2-3 (0.8).
        cns: Cross-image negatives per anchor (0, 5 or 20).
        augmented: Add the second view's references.
        seed: Base seed of the per-iteration pair sampling (with the
            ``step`` buffer: resuming draws what an unbroken run draws).
    """

    FEATURE_PARTS = {'backbone': ('backbone', ),
                     'decoder': ('backbone', 'neck'),
                     'embedding': ('backbone', 'neck')}
    default_feature = 'embedding'

    def __init__(self, backbone: dict, neck: dict,
                 head: dict = dict(type='GroupingContrastHead'),
                 num_anchors: int = 7, num_pos: int = 10, num_neg: int = 5,
                 sigma: float = 0.8, cns: int = 5, augmented: bool = True,
                 seed: int = 0, data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(backbone, neck, head, seed=seed,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.num_anchors = num_anchors
        self.num_pos = num_pos
        self.num_neg = num_neg
        self.sigma = sigma
        self.cns = cns
        self.augmented = augmented

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.neck(self.backbone(inputs))[0]

    def head_features(self, feats, kind: str) -> torch.Tensor:
        """``decoder`` (the hypercolumn before the last convolution, 1/4) or
        ``embedding`` (unit length, 1/4)."""
        if kind == 'decoder':
            return self.neck.hypercolumn(feats)
        return F.normalize(self.neck(feats)[0], dim=1)

    def loss(self, inputs: list, data_samples: list) -> dict:
        views = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        embeddings = [self.embed(v) for v in views]
        first = embeddings[0]
        grid = tuple(first.shape[2:])
        regions = torch.stack([s.gt_regions.data[0] for s in data_samples])
        regions = F.interpolate(regions[:, None].float(), size=grid,
                                mode='nearest')[:, 0].long()
        distances = torch.stack([s.tree_distance for s in data_samples])
        pairs = sample_tree_pairs(regions, distances, self.num_anchors,
                                  self.num_pos, self.num_neg, self.sigma,
                                  self.cns, self.generator(first.device))
        self.advance_step()
        valid = pairs.valid.to(first.device)[:, None]
        sizes = [1, self.num_pos, self.num_neg, self.cns]
        # every first-view lookup in one gather
        anchors, positives, negatives, cross = _at(first, torch.cat(
            [pairs.anchors[:, None], pairs.positives, pairs.negatives,
             pairs.cross_image], 1)).split(sizes, 1)
        positives, negatives = [positives], [negatives]
        pos_valid = [valid.expand(-1, self.num_pos)]
        neg_valid = [valid.expand(-1, self.num_neg)]
        if self.augmented and len(embeddings) > 1:
            # the same scene points in the second view: one mapping, one
            # grid_sample (each image has its own S x (pos + neg) points)
            boxes = torch.stack([s.view_boxes for s in data_samples])
            flat = torch.cat([pairs.positives, pairs.negatives], 1)
            coords, inside = map_between_views(flat, boxes, grid,
                                               tuple(views[0].shape[2:]))
            b = len(data_samples)
            second = sample_grouped_points(
                embeddings[1], coords.reshape(b, -1, 2)).reshape(
                    *flat.shape, -1)
            inside = inside.to(first.device) & valid
            for part, feats, masks, mask in zip(
                    second.split(sizes[1:3], 1), (positives, negatives),
                    (pos_valid, neg_valid), inside.split(sizes[1:3], 1)):
                feats.append(part)
                masks.append(mask)
        if self.cns:
            negatives.append(cross)
            neg_valid.append(pairs.cross_valid.to(first.device) & valid)
        losses = self.head.loss(
            anchors[:, 0], torch.cat(positives, 1), torch.cat(pos_valid, 1),
            torch.cat(negatives, 1), torch.cat(neg_valid, 1))
        losses['anchors_skipped'] = (~pairs.valid).sum().float()
        return losses
