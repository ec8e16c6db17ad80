"""What the four pretraining algorithms share (after MMPretrain's
``BaseSelfSupervisor``): the parts built from config, one ``forward`` for
every mode, the training step in ``loss()``, the step counter that seeds
each step's draws, dense features for the evaluation protocols, and the
momentum (key) encoder of the two that have one."""
from __future__ import annotations

import contextlib
from abc import ABCMeta, abstractmethod
from typing import Iterator, Sequence

import torch
from mmengine.model import BaseModel, ExponentialMovingAverage
from mmseg.registry import MODELS
from torch import nn

from mmssl_seg.models.utils.seeding import step_generator, step_randomness
from mmssl_seg.utils.errors import ArgumentError


class BaseSelfSupervised(BaseModel, metaclass=ABCMeta):
    """The base of our algorithms.

    Builds ``backbone`` and the optional ``neck`` and ``head`` (the loss
    head) from their configs. ``forward(mode='loss')`` is :meth:`loss` (the
    whole training step); ``forward(mode='tensor')`` gives the default dense
    features; there is no ``predict`` mode (fine-tune with a segmentor,
    evaluate with ``tools/eval/*.py``).

    Every random draw of a step comes from :meth:`generator` (or
    :meth:`randomness` for a module's own draws, e.g. dropout), seeded by
    ``seed``, the ``step`` buffer and the rank, so a resumed run draws what
    the unbroken run drew. The host keeps a mirror of ``step`` (read once
    when a state dict is loaded), so no step reads it from the device.

    :meth:`dense_features` gives every protocol its features: ``backbone``
    (the stage ``in_index``) for every algorithm, and the kinds named in
    :attr:`FEATURE_PARTS` from :meth:`head_features`. ``feature_parts(kind)``
    names the parts that compute a kind, which a checkpoint evaluated
    through it must fill.

    Args:
        backbone: Backbone config.
        neck: Neck config (optional).
        head: Loss head config (optional).
        seed: Base seed of every step's draws.
    """

    #: Feature kind -> the parts that compute it.
    FEATURE_PARTS: dict[str, tuple[str, ...]] = {'backbone': ('backbone', )}
    #: What ``forward(mode='tensor')`` returns.
    default_feature = 'backbone'

    def __init__(self, backbone: dict, neck: dict | None = None,
                 head: dict | None = None, seed: int = 0,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head) if head is not None else None
        self.seed = seed
        self.register_buffer('step', torch.zeros((), dtype=torch.long))
        self._host_step = 0
        self.register_load_state_dict_post_hook(_mirror_step)

    def generator(self, device: torch.device | str) -> torch.Generator:
        """This step's generator on ``device``."""
        return step_generator(self.seed, self._host_step, device)

    @contextlib.contextmanager
    def randomness(self, device: torch.device | str,
                   offset: int = 0) -> Iterator[None]:
        """Torch's global generators seeded for this step (``offset``:
        another stream of the same step) within the block."""
        with step_randomness(self.seed + offset, self._host_step, device):
            yield

    def advance_step(self) -> None:
        """Count a finished step on the device and in the host's mirror."""
        self.step += 1
        self._host_step += 1

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

    @abstractmethod
    def loss(self, inputs, data_samples: list) -> dict:
        """The whole training step: the losses (and logged statistics)."""

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            batch = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            return self.dense_features(batch)
        raise RuntimeError(
            f'{type(self).__name__} has no `{mode}` mode: it pretrains; '
            'fine-tune with a segmentor, evaluate with tools/eval/*.py')


def _mirror_step(module: BaseSelfSupervised, incompatible_keys) -> None:
    """After a state dict is loaded (resume), the host's mirror of the step
    counter takes the loaded value: the one read of it from the device."""
    module._host_step = int(module.step)


class MomentumEncoderMixin:
    """A momentum (key) copy of the parts :attr:`online_encoder` names, in
    ``momentum_encoder`` (an mmengine ``ExponentialMovingAverage``, whose
    state dict it keeps), equal to them after ``init_weights``. The momentum
    ``m`` is this model's ``momentum`` attribute, the one place it is set;
    :class:`~mmssl_seg.engine.hooks.MomentumUpdateHook` applies it (and its
    optional schedule) after every optimizer step through
    :meth:`update_momentum_encoder`."""

    @property
    def online_encoder(self) -> nn.Module:
        raise NotImplementedError

    def build_momentum_encoder(self, momentum: float) -> None:
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'momentum must be in [0, 1], got {momentum}')
        self.momentum = momentum
        self.momentum_encoder = ExponentialMovingAverage(
            self.online_encoder, momentum=1.0 - momentum)
        self._ema_host_steps = 0
        self.register_load_state_dict_post_hook(_mirror_ema_steps)

    def init_weights(self) -> None:
        super().init_weights()
        # the key encoder starts equal to the query encoder (MoCo)
        self.momentum_encoder.module.load_state_dict(
            self.online_encoder.state_dict())

    @torch.no_grad()
    def update_momentum_encoder(self, weight: float) -> None:
        """``key <- (1 - weight) key + weight online``: what mmengine's
        ``ExponentialMovingAverage.update_parameters`` computes (its first
        update copies, its buffers follow the online encoder's), in a few
        ``_foreach`` launches and with its step count mirrored on the host,
        where the mmengine loop launches one op per tensor and reads the
        count back from the device. The tensor lists are taken afresh each
        time (a model moved to another device has new buffers)."""
        ema = self.momentum_encoder
        online = dict(self.online_encoder.named_parameters())
        averaged = list(ema.avg_parameters.values())
        source = [online[k] for k in ema.avg_parameters]
        if self._ema_host_steps == 0:
            torch._foreach_copy_(averaged, source)
        else:
            torch._foreach_lerp_(averaged, source, weight)
        torch._foreach_copy_(list(ema.module.buffers()),
                             list(self.online_encoder.buffers()))
        self.momentum_encoder.steps += 1
        self._ema_host_steps += 1


def _mirror_ema_steps(module: MomentumEncoderMixin, incompatible_keys
                      ) -> None:
    module._ema_host_steps = int(module.momentum_encoder.steps)


def check_num_classes(head: dict, expected: int, why: str) -> None:
    """A head config must give the number of output channels the algorithm
    uses (set in the config, not overwritten behind its back)."""
    if head.get('num_classes') != expected:
        raise ValueError(f'{head.get("type")} needs num_classes={expected} '
                         f'({why}); the config gives '
                         f'{head.get("num_classes")}')
