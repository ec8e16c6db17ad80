"""Hierarchical grouping (Zhang and Maire, "Self-Supervised Visual
Representation Learning from Hierarchical Grouping", NeurIPS 2020)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmseg.registry import MODELS

from mmssl_seg.models.utils.seeding import step_generator


@MODELS.register_module()
class HierarchicalGrouping(BaseModel):
    """A from-scratch backbone and a hypercolumn neck give a 32-d pixel
    embedding; :class:`GroupingContrastHead` samples pixel pairs from each
    image's region tree (by tree distance, eqs. 2-3) and applies eq. 1.

    The whole step::

        emb_v = neck(backbone(view_v))           # B x 32 x H/4 x W/4
        regions = leaves of view 1 at H/4 x W/4   # nearest
        pairs ~ tree(regions, d_T)                # anchors, Pos, Neg, cns
        loss = eq1(emb_1[anchor], emb_1/2[Pos+], emb_1/2[Neg+])

    Args:
        backbone: Backbone config (ResNet-50, strides unchanged, outputs of
            Res3 and Res4).
        neck: :class:`HypercolumnNeck` config.
        head: :class:`GroupingContrastHead` config.
        seed: Base seed of the per-iteration pair sampling (with the
            ``step`` buffer: resuming draws what an unbroken run draws).
    """

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 seed: int = 0, data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.head = MODELS.build(head)
        self.seed = seed
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.neck(self.backbone(inputs))[0]

    @staticmethod
    def feature_parts(kind: str) -> tuple[str, ...]:
        """The parts that compute the ``kind`` features."""
        if kind == 'backbone':
            return ('backbone', )
        if kind in ('decoder', 'embedding'):
            return ('backbone', 'neck')
        raise ValueError(f'unknown feature kind {kind}')

    def dense_features(self, inputs: torch.Tensor,
                       kind: str = 'embedding') -> torch.Tensor:
        """``backbone`` (Res4), ``decoder`` (the hypercolumn before the last
        convolution, 1/4) or ``embedding`` (unit length, 1/4)."""
        feats = self.backbone(inputs)
        if kind == 'backbone':
            return feats[-1]
        if kind == 'decoder':
            return self.neck.hypercolumn(feats)
        if kind == 'embedding':
            return F.normalize(self.neck(feats)[0], dim=1)
        raise ValueError(f'unknown feature kind {kind}')

    def loss(self, inputs: list, data_samples: list) -> dict:
        views = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        embeddings = [self.embed(v) for v in views]
        grid = embeddings[0].shape[2:]
        regions = torch.stack([s.gt_regions.data[0] for s in data_samples])
        regions = F.interpolate(regions[:, None].float(), size=grid,
                                mode='nearest')[:, 0].long()
        k = max(s.tree_distance.shape[0] for s in data_samples)
        distances = torch.zeros(len(data_samples), k, k)
        for i, s in enumerate(data_samples):
            n = s.tree_distance.shape[0]
            distances[i, :n, :n] = s.tree_distance
        boxes = torch.stack([s.view_boxes for s in data_samples])
        losses = self.head.loss(embeddings, regions, distances, boxes,
                                tuple(views[0].shape[2:]),
                                step_generator(self.seed, self.step))
        self.step += 1
        return losses

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            batch = inputs[0] if isinstance(inputs, list) else inputs
            return self.dense_features(batch, 'embedding')
        raise RuntimeError(f'HierarchicalGrouping has no `{mode}` mode: it '
                           'pretrains; evaluate it with tools/eval/*.py')
