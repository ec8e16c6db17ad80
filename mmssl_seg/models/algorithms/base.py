"""What the four pretraining algorithms share (after MMPretrain's
``BaseSelfSupervisor``): one ``forward`` for every mode, the training step
in ``loss()``, dense features for the evaluation protocols, and the
momentum (key) encoder of the two that have one."""
from __future__ import annotations

from typing import Sequence

import torch
from mmengine.model import BaseModel, ExponentialMovingAverage
from torch import nn

from mmssl_seg.utils.errors import ArgumentError


class BaseSelfSupervised(BaseModel):
    """The base of our algorithms.

    ``forward(mode='loss')`` is :meth:`loss` (the whole training step);
    ``forward(mode='tensor')`` gives the default dense features; there is no
    ``predict`` mode (fine-tune with a segmentor, evaluate with
    ``tools/eval/*.py``).

    :meth:`dense_features` gives every protocol its features: ``backbone``
    (the stage ``in_index``) for every algorithm, and the kinds named in
    :attr:`FEATURE_PARTS` from :meth:`head_features`. ``feature_parts(kind)``
    names the parts that compute a kind, which a checkpoint evaluated
    through it must fill.
    """

    #: Feature kind -> the parts that compute it.
    FEATURE_PARTS: dict[str, tuple[str, ...]] = {'backbone': ('backbone', )}
    #: What ``forward(mode='tensor')`` returns.
    default_feature = 'backbone'

    def feature_parts(self, kind: str) -> tuple[str, ...]:
        if kind not in self.FEATURE_PARTS:
            raise ArgumentError(f'{type(self).__name__} has no `{kind}` '
                                f'features; it has '
                                f'{list(self.FEATURE_PARTS)}')
        return self.FEATURE_PARTS[kind]

    def extract_feat(self, inputs: torch.Tensor) -> Sequence[torch.Tensor]:
        return self.backbone(inputs)

    def head_features(self, feats: Sequence[torch.Tensor],
                      kind: str) -> torch.Tensor:
        """The non-backbone ``kind`` features from the backbone's
        outputs."""
        raise NotImplementedError

    def dense_features(self, inputs: torch.Tensor, kind: str | None = None,
                       in_index: int = -1) -> torch.Tensor:
        """``N x C x h x w`` features of ``kind`` (default
        :attr:`default_feature`) for normalised ``inputs``."""
        kind = kind or self.default_feature
        self.feature_parts(kind)  # a known kind
        feats = self.extract_feat(inputs)
        if kind == 'backbone':
            return feats[in_index] if isinstance(feats, (list, tuple)) \
                else feats
        return self.head_features(feats, kind)

    def loss(self, inputs, data_samples: list) -> dict:
        raise NotImplementedError

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            batch = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            return self.dense_features(batch)
        raise RuntimeError(
            f'{type(self).__name__} has no `{mode}` mode: it pretrains; '
            'fine-tune with a segmentor, evaluate with tools/eval/*.py')


class MomentumEncoderMixin:
    """A momentum (key) copy of the parts :attr:`online_encoder` names, in
    ``momentum_encoder`` (an mmengine ``ExponentialMovingAverage``), equal to
    them after ``init_weights``. The momentum ``m`` is this model's
    ``momentum`` attribute, the one place it is set;
    :class:`~mmssl_seg.engine.hooks.MomentumUpdateHook` applies it (and its
    optional schedule) after every optimizer step."""

    @property
    def online_encoder(self) -> nn.Module:
        raise NotImplementedError

    def build_momentum_encoder(self, momentum: float) -> None:
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'momentum must be in [0, 1], got {momentum}')
        self.momentum = momentum
        self.momentum_encoder = ExponentialMovingAverage(
            self.online_encoder, momentum=1.0 - momentum)

    def init_weights(self) -> None:
        super().init_weights()
        # the key encoder starts equal to the query encoder (MoCo)
        self.momentum_encoder.module.load_state_dict(
            self.online_encoder.state_dict())


def check_num_classes(head: dict, expected: int, why: str) -> None:
    """A head config must give the number of output channels the algorithm
    uses (set in the config, not overwritten behind its back)."""
    if head.get('num_classes') != expected:
        raise ValueError(f'{head.get("type")} needs num_classes={expected} '
                         f'({why}); the config gives '
                         f'{head.get("num_classes")}')
