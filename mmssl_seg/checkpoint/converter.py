"""The converter behind ``tools/model_converters/extract_pretrained.py``: a
pretraining checkpoint into a tensors-only file of exactly the parts a
target model (built from its config) needs, verified to load."""
from __future__ import annotations

import datetime
from typing import Sequence

import torch
from torch import nn

from mmssl_seg.checkpoint.io import (
    read_checkpoint,
    save_tensors_only,
    state_dict_of,
)
from mmssl_seg.checkpoint.layouts import (
    SOURCE_LAYOUTS,
    KeyMismatchError,
    PartReport,
    extract_parts,
)
from mmssl_seg.models.builder import build_model
from mmssl_seg.utils.io import sha256_of


def extract_pretrained(src: str,
                       dst: str,
                       target_config,
                       parts: Sequence[str] = ('backbone',),
                       source_layout: str | None = None,
                       **kwargs) -> list[PartReport]:
    """Read ``src``, extract ``parts`` for the model of ``target_config``,
    write a tensors-only ``dst`` and verify it loads into that model.

    Args:
        source_layout: A whole-file translation of :data:`SOURCE_LAYOUTS`
            applied first (e.g. ``caffe-vgg16``).

    Other keyword arguments go to :func:`extract_parts`.
    """
    source = state_dict_of(read_checkpoint(src))
    if source_layout is not None:
        if source_layout not in SOURCE_LAYOUTS:
            raise ValueError(f'unknown source layout {source_layout!r}; '
                             f'known: {", ".join(SOURCE_LAYOUTS)}')
        source = SOURCE_LAYOUTS[source_layout](source)
    target = build_model(target_config)
    extracted, reports = extract_parts(source, target, parts, **kwargs)
    meta = {
        'source': src,
        'source_sha256': sha256_of(src),
        'target_config': target_config if isinstance(target_config, str)
        else '<Config object>',
        'parts': ','.join(parts),
        'weights': kwargs.get('weights', 'online'),
        'source_layout': source_layout or 'as saved',
        'created': datetime.datetime.now().isoformat(timespec='seconds'),
        'tool': 'mmssl_seg extract_pretrained',
    }
    save_tensors_only(extracted, dst, meta)
    verify_loadable(dst, target, reports)
    return reports


def verify_loadable(path: str, target: nn.Module,
                    reports: Sequence[PartReport]) -> None:
    """Load ``path`` with ``weights_only=True`` into each reported part of
    ``target``; only the new layers and explicitly allowed keys may stay
    unfilled, and nothing may be left over."""
    state = torch.load(path, map_location='cpu', weights_only=True)
    for report in reports:
        prefix = report.part + '.'
        sub = {k[len(prefix):]: v for k, v in state['state_dict'].items()
               if k.startswith(prefix)}
        result = getattr(target, report.part).load_state_dict(sub,
                                                              strict=False)
        unfilled = set(result.missing_keys) - set(report.new_layers) - set(
            report.allowed_missing)
        if unfilled or result.unexpected_keys:
            raise KeyMismatchError(
                f'{path} does not load cleanly into `{report.part}`: '
                f'missing {sorted(unfilled)[:5]}, '
                f'unexpected {result.unexpected_keys[:5]}')
