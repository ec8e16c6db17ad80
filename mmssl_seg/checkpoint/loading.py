"""Loading weights for evaluation and fine-tuning without silent gaps: every
weight of the evaluated parts comes from the file, with its shape, or is
named by the user."""
from __future__ import annotations

import re
from typing import Sequence

from torch import nn

from mmssl_seg.checkpoint.io import read_checkpoint, state_dict_of
from mmssl_seg.checkpoint.layouts import matches_any
from mmssl_seg.models.builder import build_model, feature_parts, quiet_init
from mmssl_seg.utils.errors import UserError


class IncompleteWeightsError(UserError, ValueError):
    """A checkpoint does not fill the parts of a model that are evaluated."""


def load_weights(model: nn.Module, checkpoint: str,
                 required: Sequence[str] = ('backbone', ),
                 new_layers: Sequence[str] = ('conv_seg', ),
                 allow_missing: Sequence[str] = ()) -> dict:
    """Load ``checkpoint`` into ``model``; every key under the ``required``
    prefixes (except ``new_layers`` and keys matching an ``allow_missing``
    regex) must be filled, with the right shape.

    Keys outside the required parts may be missing (a backbone-only file
    evaluated through its backbone) or left over (heads of a pretraining
    checkpoint). The file is read without running code it names.

    Returns:
        ``{'missing': [...], 'unexpected': [...]}`` of the whole model.
    """
    source = state_dict_of(read_checkpoint(checkpoint))
    if source and all(k.startswith('module.') for k in source):
        source = {k[len('module.'):]: v for k, v in source.items()}  # DDP
    own = model.state_dict()
    shape_errors = [
        f'{k}: {tuple(v.shape)} vs {tuple(own[k].shape)}'
        for k, v in source.items() if k in own and own[k].shape != v.shape
    ]
    if shape_errors:
        raise IncompleteWeightsError(
            f'{checkpoint} does not fit the model ({len(shape_errors)} '
            'weights of another shape: another architecture?): ' +
            '; '.join(shape_errors[:5]))
    result = model.load_state_dict(source, strict=False)
    pattern = re.compile(r'^(%s)\.' % '|'.join(map(re.escape, required)))
    new = re.compile(r'(^|\.)(%s)\.' % '|'.join(map(re.escape, new_layers))
                     ) if new_layers else None
    gaps = [k for k in result.missing_keys
            if pattern.match(k) and not (new and new.search(k))
            and not matches_any(k, allow_missing)]
    if gaps:
        raise IncompleteWeightsError(
            f'{checkpoint} leaves {len(gaps)} weights of '
            f'{", ".join(required)} at random init, e.g. {gaps[:5]}. '
            'Convert it with extract_pretrained.py for this model, or '
            'allow them with --allow-missing REGEX if that is intended.')
    return {'missing': list(result.missing_keys),
            'unexpected': list(result.unexpected_keys)}


def load_model(config, checkpoint: str | None,
               required: Sequence[str] | None = None,
               allow_missing: Sequence[str] = (),
               kind: str = 'backbone') -> nn.Module:
    """``build_model`` + ``load_weights`` (``checkpoint=None``: random init,
    for baselines), in eval mode.

    Args:
        required: Parts the checkpoint must fill; default: the parts that
            compute the ``kind`` features (:func:`feature_parts`).
        kind: The features that will be evaluated.
    """
    model = build_model(config)
    if checkpoint is None:
        quiet_init(model)
    else:
        parts = feature_parts(model, kind) if required is None else required
        load_weights(model, checkpoint, parts, allow_missing=allow_missing)
    return model.eval()
