"""Refuse a pretrained initialisation that would silently leave weights at
random init.

mmengine's ``init_cfg=dict(type='Pretrained', ...)`` loads with
``strict=False``: a missing ``prefix='backbone.'``, a 7x7-stem (torchvision,
MoCo) checkpoint into a deep-stem ``ResNetV1c`` or a mis-shaped layer only
log a WARNING and training goes on from random weights. This hook reads,
before the weights are initialised, every ``Pretrained`` init of the model
and stops the run when the file does not fill its module, naming the
module, the keys and the fix.
"""
from __future__ import annotations

import re
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS
from torch import nn

from mmssl_seg.checkpoint.io import read_checkpoint
from mmssl_seg.checkpoint.layouts import matches_any
from mmssl_seg.utils.errors import UserError


class PretrainedGapError(UserError, RuntimeError):
    """A ``Pretrained`` init would leave weights at random init."""


def _pretrained_inits(model: nn.Module):
    """``(module name, module, init cfg)`` of every ``Pretrained`` init."""
    for name, module in model.named_modules():
        cfgs = getattr(module, 'init_cfg', None)
        for cfg in cfgs if isinstance(cfgs, (list, tuple)) else [cfgs]:
            if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
                yield name, module, cfg


def _checkpoint_keys(path: str, prefix: str | None) -> dict:
    """Shapes of the tensors mmengine would load, keyed as in the module
    (its ``prefix`` stripped, or a DataParallel ``module.`` stripped)."""
    checkpoint = read_checkpoint(path)
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else {}
    shapes = {k: tuple(v.shape) for k, v in state.items()
              if hasattr(v, 'shape')}
    if prefix is None:
        return {re.sub(r'^module\.', '', k): s for k, s in shapes.items()}
    prefix = prefix if prefix.endswith('.') else prefix + '.'
    return {k[len(prefix):]: s for k, s in shapes.items()
            if k.startswith(prefix)}


def _fix(name: str, wanted: dict, found: dict, cfg: dict) -> str:
    heads = sorted({k.split('.')[0] + '.' for k in found})
    if cfg.get('prefix') is None and f'{name.split(".")[-1]}.' in heads:
        return (f"the file's keys start with '{name.split('.')[-1]}.': set "
                f"init_cfg.prefix='{name.split('.')[-1]}.'")
    if not found:
        return ('no key of the file matches; check init_cfg.prefix '
                f'(the file has: {", ".join(heads[:8]) or "nothing"})')
    if any(k.startswith('stem.') for k in wanted) and 'conv1.weight' in found:
        return ('a 7x7-stem (torchvision / MoCo) file into a deep-stem '
                'ResNetV1c: use the config variant with the 7x7 stem (MMSeg '
                '`ResNet`, ResNetV1b)')
    return ('convert the file for this model with '
            'tools/model_converters/extract_pretrained.py --target CONFIG, '
            'or name the keys that may stay random in '
            'PretrainedInitCheckHook(allow_missing=[...])')


def pretrained_gaps(model: nn.Module,
                    allow_missing: Sequence[str] = ()) -> list[str]:
    """One message per ``Pretrained`` init of ``model`` whose file leaves a
    weight of its module at random init (missing or of another shape).
    ``num_batches_tracked`` counters may be missing."""
    problems = []
    for name, module, cfg in _pretrained_inits(model):
        if '://' in str(cfg['checkpoint']):
            continue  # a URL: mmengine downloads it; nothing to read here
        found = _checkpoint_keys(cfg['checkpoint'], cfg.get('prefix'))
        wanted = {k: tuple(v.shape) for k, v in module.state_dict().items()}
        missing = [k for k in wanted if k not in found
                   and not k.endswith('num_batches_tracked')
                   and not matches_any(k, allow_missing)
                   and not matches_any(f'{name}.{k}', allow_missing)]
        shaped = [f'{k} {found[k]} vs {wanted[k]}' for k in wanted
                  if k in found and found[k] != wanted[k]]
        if missing or shaped:
            where = name or 'the model'
            detail = []
            if missing:
                detail.append(f'{len(missing)} of {len(wanted)} keys missing '
                              f'(e.g. {", ".join(missing[:4])})')
            if shaped:
                detail.append(f'{len(shaped)} of another shape (e.g. '
                              f'{"; ".join(shaped[:2])})')
            problems.append(
                f'init_cfg=Pretrained of `{where}` from {cfg["checkpoint"]} '
                f'(prefix={cfg.get("prefix")!r}) leaves weights at random '
                f'init: {", ".join(detail)}. Fix: '
                f'{_fix(name, wanted, found, cfg)}.')
    return problems


@HOOKS.register_module()
class PretrainedInitCheckHook(Hook):
    """Stops a run, before the weights are initialised, when an
    ``init_cfg=dict(type='Pretrained', ...)`` would leave weights of its
    module at random init (mmengine only warns). ``tools/train.py`` adds it
    to every run; configs used with MMSeg's own tools list it in
    ``custom_hooks``.

    Args:
        allow_missing: Regexes of keys (in the module, or with the module's
            name) that may stay at random init.
    """
    priority = 'VERY_HIGH'

    def __init__(self, allow_missing: Sequence[str] = ()) -> None:
        self.allow_missing = tuple(allow_missing)

    def before_run(self, runner) -> None:
        if runner._resume:  # the weights come from the run's checkpoint
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        problems = pretrained_gaps(model, self.allow_missing)
        if problems:
            raise PretrainedGapError('\n'.join(problems))
