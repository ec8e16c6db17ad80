from __future__ import annotations

import math

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class MomentumUpdateHook(Hook):
    """Updates an algorithm's momentum (key) encoder after every optimizer
    step: ``key = m * key + (1 - m) * online`` (MoCo eq. 2; MaskContrast
    Algorithm 1 updates after the SGD step, as here).

    ``m`` is the model's ``momentum`` (set once, in the model config; 0.999
    in MoCo and MaskContrast). With ``end_momentum`` it follows BYOL's
    cosine schedule from there, ``m_t = end - (end - m) * (cos(pi * t / T) +
    1) / 2``, reaching ``end_momentum`` (usually 1) at the last iteration.
    It depends only on the iteration, so a resumed run continues it
    exactly.

    The algorithm provides ``momentum`` and ``update_momentum_encoder``
    (:class:`~mmssl_seg.models.algorithms.base.MomentumEncoderMixin`).

    Args:
        end_momentum: m at the end for the cosine schedule; ``None`` keeps m
            constant.
    """
    priority = 'NORMAL'

    def __init__(self, end_momentum: float | None = None) -> None:
        if end_momentum is not None and not 0.0 <= end_momentum <= 1.0:
            raise ValueError(
                f'end_momentum must be in [0, 1], got {end_momentum}')
        self.end_momentum = end_momentum

    def momentum_at(self, momentum: float, iteration: int,
                    max_iters: int) -> float:
        """m at ``iteration`` for a model whose momentum is ``momentum``."""
        if self.end_momentum is None:
            return momentum
        progress = iteration / max(1, max_iters - 1)
        return self.end_momentum - (self.end_momentum - momentum) * (
            math.cos(math.pi * progress) + 1) / 2

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        m = self.momentum_at(model.momentum, runner.iter, runner.max_iters)
        model.update_momentum_encoder(1.0 - m)  # the weight of the new value
