"""Key layouts: handing pretrained weights from one model's names to
another's without silently dropping any.

:func:`extract_parts` checks every extracted part against the target model
and refuses missing, unexpected or mis-shaped keys unless explicitly allowed
(:func:`~mmssl_seg.checkpoint.converter.extract_pretrained` builds the target
from its config and writes the file). Loading a plain-ResNet checkpoint into
``ResNetV1c`` would otherwise only log "missing keys: stem..." and train with
a random stem.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import torch
from torch import nn

from mmssl_seg.utils.errors import UserError

#: Where our algorithms keep the momentum (EMA) copy of their parts: an
#: ``mmengine.model.ExponentialMovingAverage`` named ``momentum_encoder`` that
#: wraps a module with the same attribute names as the online model.
MOMENTUM_PREFIX = 'momentum_encoder.module.'

#: Layers of a target model that fine-tuning always trains from scratch.
DEFAULT_NEW_LAYERS = ('conv_seg',)


def _stem_pretrain_to_seg(key: str) -> str:
    """MMPretrain deep stem ``stem.{i}.conv/bn`` -> MMSeg ``stem.{3i}/{3i+1}``
    (MMSeg's stem is a plain Sequential of conv, bn, relu triples)."""
    m = re.match(r'stem\.(\d+)\.(conv|bn)\.(.+)$', key)
    if m is None:
        return key
    index = 3 * int(m.group(1)) + (0 if m.group(2) == 'conv' else 1)
    return f'stem.{index}.{m.group(3)}'


def _stem_seg_to_pretrain(key: str) -> str:
    m = re.match(r'stem\.(\d+)\.(.+)$', key)
    if m is None:
        return key
    index = int(m.group(1))
    if index % 3 == 2:  # a ReLU has no parameters
        return key
    layer = 'conv' if index % 3 == 0 else 'bn'
    return f'stem.{index // 3}.{layer}.{m.group(2)}'


#: Known key layouts between which a part can be remapped.
REMAPS: dict[str, Callable[[str], str]] = {
    'identity': lambda key: key,
    'mmpretrain->mmseg (ResNetV1c/V1d stem)': _stem_pretrain_to_seg,
    'mmseg->mmpretrain (ResNetV1c/V1d stem)': _stem_seg_to_pretrain,
}


def choose_remap(source_keys: Iterable[str],
                 target_keys: Iterable[str]) -> str:
    """The remap under which most source keys land on target keys
    (identity on ties)."""
    source_keys, target_keys = list(source_keys), set(target_keys)
    scores = {
        name: sum(fn(k) in target_keys for k in source_keys)
        for name, fn in REMAPS.items()
    }
    best = max(scores.values())
    return 'identity' if scores['identity'] == best else max(
        scores, key=scores.get)


#: VGG16's convolutions by their Caffe names, in order.
_VGG16_CONVS = [f'conv{b}_{i}' for b, n in ((1, 2), (2, 2), (3, 3), (4, 3),
                                           (5, 3)) for i in range(1, n + 1)]
#: Their indices in MMPretrain's ``VGG.features`` (max pools in between).
_VGG16_FEATURES = [0, 1, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16]


def caffe_vgg16_to_mmpretrain(state: Mapping[str, torch.Tensor]
                              ) -> dict[str, torch.Tensor]:
    """A VGG16 named by its Caffe layers (``conv1_1.weight`` ... and, with
    batch norm as in the Mix-and-Match colorization nets,
    ``batch_conv1_1.{weight,bias,running_mean,running_var}``), e.g. a
    caffemodel of Larsson et al.'s colorization VGG16 dumped by layer name,
    in MMPretrain ``VGG`` keys (``features.{i}.conv/bn.*``). A 1-channel
    ``conv1_1`` (the grey input) becomes 3 equal channels divided by 3, so
    the stock 3-channel VGG fed the repeated grey level
    (:class:`ColorizationDataPreProcessor`) computes the same. ``fc6``,
    ``fc7``, ``conv_add1`` and ``conv_add2`` (the layers the hypercolumn
    fine-tuning reads too) become ``HypercolumnVGG``'s ``{name}.conv.*``;
    a plain ``VGG`` target drops them with ``--allow-unexpected``."""
    out = dict(state)
    for name in ('fc6', 'fc7', 'conv_add1', 'conv_add2'):
        for suffix in ('weight', 'bias'):
            if f'{name}.{suffix}' in out:
                out[f'{name}.conv.{suffix}'] = out.pop(f'{name}.{suffix}')
    for name, index in zip(_VGG16_CONVS, _VGG16_FEATURES):
        for suffix in ('weight', 'bias'):
            key = f'{name}.{suffix}'
            if key in out:
                value = out.pop(key)
                if name == 'conv1_1' and suffix == 'weight' and \
                        value.shape[1] == 1:
                    value = value.expand(-1, 3, -1, -1) / 3
                out[f'features.{index}.conv.{suffix}'] = value
        for suffix in ('weight', 'bias', 'running_mean', 'running_var'):
            key = f'batch_{name}.{suffix}'
            if key in out:
                out[f'features.{index}.bn.{suffix}'] = out.pop(key)
                # Caffe keeps no update counter; PyTorch's starts at 0
                out[f'features.{index}.bn.num_batches_tracked'] = \
                    torch.tensor(0)
    return out


#: Whole-file layouts translated before extraction (``--source-layout``).
SOURCE_LAYOUTS: dict[str, Callable[[Mapping[str, torch.Tensor]],
                                   dict[str, torch.Tensor]]] = {
    'caffe-vgg16': caffe_vgg16_to_mmpretrain,
}


# --------------------------------------------------------------------------- #
# Extraction
# --------------------------------------------------------------------------- #
class KeyMismatchError(UserError, ValueError):
    """Extracted weights do not fit the target model exactly."""


@dataclass
class PartReport:
    """What was extracted for one part of the target model."""
    part: str
    source_prefix: str
    remap: str
    tensors: int = 0
    parameters: int = 0
    new_layers: list[str] = field(default_factory=list)
    allowed_missing: list[str] = field(default_factory=list)
    ignored_unexpected: list[str] = field(default_factory=list)
    #: keys of a known head of the source's layout that the target lacks
    dropped_heads: list[str] = field(default_factory=list)
    #: what the source holds outside every part's prefix (not taken)
    left_out: str = ''


#: Heads that files of a known layout carry inside a backbone's prefix and
#: that backbones never hold: torchvision's ``fc`` classifier, which MoCo v2
#: (``module.encoder_q.fc.*``) replaces by its 2-layer projection MLP.
KNOWN_HEADS = {'fc': 'the classifier of a torchvision-layout ResNet, or '
                     "MoCo v2's projection MLP"}


def matches_any(key: str, patterns: Sequence[str]) -> bool:
    """Whether any regex of ``patterns`` is found in ``key``."""
    return any(re.search(p, key) for p in patterns)


def _source_prefix(part: str, weights: str,
                   overrides: Mapping[str, str]) -> str:
    if part in overrides:
        return overrides[part]
    return (MOMENTUM_PREFIX if weights == 'momentum' else '') + part + '.'


def _prefix_summary(keys: Iterable[str], depth: int = 2) -> str:
    counts: dict[str, int] = {}
    for key in keys:
        head = '.'.join(key.split('.')[:depth]) + '.'
        counts[head] = counts.get(head, 0) + 1
    return ', '.join(f'{p} ({n})' for p, n in sorted(counts.items())[:20])


def extract_parts(source: Mapping[str, torch.Tensor],
                  target: nn.Module,
                  parts: Sequence[str] = ('backbone',),
                  weights: str = 'online',
                  source_prefixes: Mapping[str, str] | None = None,
                  new_layers: Sequence[str] = DEFAULT_NEW_LAYERS,
                  allow_missing: Sequence[str] = (),
                  allow_unexpected: Sequence[str] = ()
                  ) -> tuple[dict[str, torch.Tensor], list[PartReport]]:
    """Take ``parts`` of ``target`` from the ``source`` state dict.

    Args:
        source: Tensors of the pretraining checkpoint.
        target: The downstream model (e.g. an MMSeg ``EncoderDecoder``); its
            attributes named by ``parts`` define the keys that must be filled.
        parts: Attributes of ``target`` to fill, e.g. ``backbone``,
            ``decode_head``, ``neck``.
        weights: ``online`` or ``momentum`` (the EMA copy under
            :data:`MOMENTUM_PREFIX`).
        source_prefixes: Where a part lives in ``source`` when not at its own
            name, e.g. ``{'backbone': 'module.encoder_q.'}`` for a MoCo file.
        new_layers: Target submodules trained from scratch (the classifier);
            their keys are neither required nor taken.
        allow_missing: Regexes of target keys that may stay randomly
            initialised, matched against the key in its part
            (``layer4.0.conv1.weight``) and in the model
            (``backbone.layer4.0.conv1.weight``).
        allow_unexpected: Regexes of source keys that may be dropped (in the
            part, or with the source prefix). Keys of a :data:`KNOWN_HEADS`
            head that the target part does not have are dropped without
            asking (reported in ``dropped_heads``).

    Returns:
        The extracted tensors keyed as in ``target`` (``backbone.conv1...``)
        and a report per part.

    Raises:
        KeyMismatchError: On missing, unexpected or mis-shaped keys that are
            not allowed, or a part that is absent from the source.
    """
    if weights not in ('online', 'momentum'):
        raise ValueError(f'weights must be online or momentum, got {weights}')
    source_prefixes = dict(source_prefixes or {})
    extracted: dict[str, torch.Tensor] = {}
    reports: list[PartReport] = []
    problems: list[str] = []
    for part in parts:
        module = getattr(target, part, None)
        if not isinstance(module, nn.Module):
            raise KeyMismatchError(
                f'the target model has no part `{part}` '
                '(it has: ' + ', '.join(
                    n for n, _ in target.named_children()) + ')')
        prefix = _source_prefix(part, weights, source_prefixes)
        found = {k[len(prefix):]: v for k, v in source.items()
                 if k.startswith(prefix)}
        if not found:
            raise KeyMismatchError(
                f'no key of the source starts with `{prefix}` for part '
                f'`{part}`. Source prefixes: {_prefix_summary(source)}. '
                'Pass --source-prefix PART=PREFIX (or --weights momentum).')
        wanted = module.state_dict()
        remap_name = choose_remap(found, wanted)
        remap = REMAPS[remap_name]
        mapped = {remap(k): v for k, v in found.items()}
        report = PartReport(part=part, source_prefix=prefix, remap=remap_name)

        for key in sorted(wanted):
            if matches_any(key, [rf'^{re.escape(n)}\.' for n in new_layers]):
                report.new_layers.append(key)
            elif key not in mapped:
                # a pattern may name the key in the part or in the model
                if matches_any(key, allow_missing) or matches_any(
                        f'{part}.{key}', allow_missing):
                    report.allowed_missing.append(key)
                else:
                    problems.append(f'missing   {part}.{key}')
            elif mapped[key].shape != wanted[key].shape:
                problems.append(
                    f'shape     {part}.{key}: source '
                    f'{tuple(mapped[key].shape)} vs target '
                    f'{tuple(wanted[key].shape)}')
            else:
                extracted[f'{part}.{key}'] = mapped[key]
                report.tensors += 1
                if not key.endswith(('running_mean', 'running_var',
                                     'num_batches_tracked')):
                    report.parameters += mapped[key].numel()
        heads = tuple(f'{name}.' for name in KNOWN_HEADS
                      if not hasattr(module, name))
        for key in sorted(set(mapped) - set(wanted)):
            if matches_any(key, allow_unexpected) or matches_any(
                    prefix + key, allow_unexpected):
                report.ignored_unexpected.append(key)
            elif key.startswith(heads):
                report.dropped_heads.append(key)
            else:
                problems.append(f'unexpected {prefix}{key}')
        reports.append(report)
    taken = tuple(r.source_prefix for r in reports)
    left_out = _prefix_summary(k for k in source if not k.startswith(taken))
    for report in reports:
        report.left_out = left_out
    if problems:
        shown = '\n  '.join(problems[:40])
        more = f'\n  ... and {len(problems) - 40} more' if len(
            problems) > 40 else ''
        raise KeyMismatchError(
            f'{len(problems)} key problem(s) between the source and the '
            f'target model:\n  {shown}{more}\nAllow them explicitly with '
            '--allow-missing / --allow-unexpected REGEX if that is intended.')
    return extracted, reports
