"""Building a model from any config, and the dense features every
evaluation protocol reads (loading weights into it:
:mod:`mmssl_seg.checkpoint.loading`)."""
from __future__ import annotations

import importlib
from typing import Sequence

import torch
from torch import nn

from mmssl_seg.utils.errors import ArgumentError


def build_model(config) -> nn.Module:
    """Build the model of an MMSeg, MMPretrain or mmssl_seg config on CPU,
    without loading pretrained weights.

    Args:
        config: A config path or a loaded ``Config``.
    """
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope, init_default_scope

    import mmssl_seg.models  # noqa: F401  (registers our modules)
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    scope = cfg.get('default_scope', 'mmseg')
    importlib.import_module(f'{scope}.models')  # fill the scope's registry
    model_cfg = cfg.model.copy()
    model_cfg.pop('pretrained', None)
    if scope != 'mmseg':
        # another toolbox's model (MMPretrain): its scope only while it is
        # built, or every later build in the process would look there
        with DefaultScope.overwrite_default_scope(scope):
            return MODELS.build(model_cfg)
    init_default_scope(scope)
    return MODELS.build(model_cfg)


def feature_parts(model: nn.Module, kind: str) -> tuple[str, ...]:
    """The parts of ``model`` that compute its ``kind`` features (and so must
    all come from a checkpoint that is evaluated through them): the
    model's own ``feature_parts`` (our algorithms), else ``backbone`` for
    ``backbone`` and ``backbone`` + ``decode_head`` for ``decoder``."""
    if hasattr(model, 'feature_parts'):
        return tuple(model.feature_parts(kind))
    if kind == 'backbone':
        return ('backbone', )
    if kind == 'decoder':
        return ('backbone', 'decode_head')
    raise ArgumentError(f'{type(model).__name__} has no `{kind}` '
                        'features: use backbone or decoder')


@torch.no_grad()
def preprocess(model: nn.Module, images: Sequence[torch.Tensor]
               ) -> torch.Tensor:
    """Normalise a batch of same-sized uint8 BGR CHW images as the model's
    data preprocessor does in training (channel order, mean, std).

    Works with every ``ImgDataPreprocessor`` (MMSeg's, MMPretrain's single-
    and multi-view ones) through their attributes, whatever their call
    signature.
    """
    pre = model.data_preprocessor
    x = torch.stack(list(images)).float()
    if getattr(pre, 'channel_conversion', False) or getattr(
            pre, '_channel_conversion', False):
        x = x[:, [2, 1, 0]]
    if getattr(pre, '_enable_normalize', False):
        x = (x - pre.mean.view(1, -1, 1, 1)) / pre.std.view(1, -1, 1, 1)
    return x


def quiet_init(model: nn.Module) -> None:
    """``model.init_weights()`` without mmengine's line per parameter on the
    console (hundreds of lines for a random-init baseline)."""
    import logging

    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


@torch.no_grad()
def dense_features(model: nn.Module, inputs: torch.Tensor,
                   kind: str = 'backbone', in_index: int = -1
                   ) -> torch.Tensor:
    """``N x C x h x w`` features of normalised ``inputs``."""
    if hasattr(model, 'dense_features'):
        return model.dense_features(inputs, kind, in_index)
    if kind == 'backbone':
        feats = model.backbone(inputs)
        return feats[in_index] if isinstance(feats, (list, tuple)) else feats
    if kind == 'decoder':
        head = getattr(model, 'decode_head', None)
        if not hasattr(head, '_forward_feature'):
            raise ValueError(f'{type(model).__name__} has no decode head '
                             'with pre-classifier features')
        return head._forward_feature(model.extract_feat(inputs))
    raise ValueError(
        f'{type(model).__name__} has no `{kind}` features: only models with '
        f'a dense_features() method do; use one of backbone, decoder')
