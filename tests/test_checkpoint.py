"""The checkpoint hand-off: safe reading, extraction, key layouts, refusals,
and loading into stock MMSeg through ``init_cfg=Pretrained``."""
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from mmssl_seg.checkpoint.converter import extract_pretrained
from mmssl_seg.checkpoint.io import (
    read_checkpoint,
    save_tensors_only,
    state_dict_of,
    weights_sha256,
)
from mmssl_seg.checkpoint.layouts import (
    MOMENTUM_PREFIX,
    REMAPS,
    KeyMismatchError,
    choose_remap,
    extract_parts,
)
from mmssl_seg.checkpoint.loading import IncompleteWeightsError, load_weights
from mmssl_seg.models.builder import build_model
from tests.conftest import MINI_DEEPLAB, MINI_PSPNET, run_tool


def _init_from(config: str, checkpoint: str, parts):
    """Build the stock model of ``config`` whose ``parts`` load
    ``checkpoint`` through mmengine's ``Pretrained`` init, and initialise."""
    cfg = Config.fromfile(config)
    for part in parts:
        cfg.model[part]['init_cfg'] = dict(
            type='Pretrained', checkpoint=checkpoint, prefix=part + '.')
    model = build_model(cfg)
    model.init_weights()
    return model


@pytest.mark.parametrize('config,parts', [
    (MINI_DEEPLAB, ['backbone', 'decode_head']),
    (MINI_PSPNET, ['backbone']),
])
def test_round_trip_into_stock_models(mini_run, tmp_path, config, parts):
    out = str(tmp_path / 'extracted.pth')
    reports = extract_pretrained(mini_run['checkpoint'], out, config, parts)
    source = state_dict_of(read_checkpoint(mini_run['checkpoint']))

    saved = torch.load(out, weights_only=True)  # tensors only
    assert set(saved) == {'state_dict', 'meta'}
    assert all(isinstance(v, str) for v in saved['meta'].values())

    model = _init_from(config, out, parts)
    for report in reports:
        part = getattr(model, report.part)
        expected = set(part.state_dict()) - set(report.new_layers)
        got = {k[len(report.part) + 1:] for k in saved['state_dict']
               if k.startswith(report.part + '.')}
        assert got == expected  # zero missing, zero unexpected
        for key, value in part.state_dict().items():
            if key in expected:
                assert torch.equal(value, source[f'{report.part}.{key}']), key
    assert reports[0].tensors == len([k for k in source
                                      if k.startswith('backbone.')])


def test_decode_head_classifier_is_new_not_copied(mini_run, tmp_path):
    out = str(tmp_path / 'extracted.pth')
    reports = extract_pretrained(mini_run['checkpoint'], out, MINI_DEEPLAB,
                                 ['decode_head'])
    assert reports[0].new_layers == ['conv_seg.bias', 'conv_seg.weight']
    saved = torch.load(out, weights_only=True)['state_dict']
    assert not any('conv_seg' in k for k in saved)


def test_plain_resnet_into_resnetv1c_is_refused():
    """The silent failure of ENVIRONMENT.md: a plain-ResNet backbone (no deep
    stem) would load into ResNetV1c with only a logged warning."""
    from mmseg.models.backbones import ResNet
    plain = {f'backbone.{k}': v
             for k, v in ResNet(depth=18).state_dict().items()}
    target = build_model(MINI_DEEPLAB)
    with pytest.raises(KeyMismatchError) as error:
        extract_parts(plain, target, ['backbone'])
    message = str(error.value)
    assert 'missing   backbone.stem.0.weight' in message
    assert 'unexpected backbone.conv1.weight' in message


def test_converter_cli_refuses_with_clear_message_and_writes_nothing(
        tmp_path):
    from mmseg.models.backbones import ResNet
    src = str(tmp_path / 'plain.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in ResNet(
        depth=18).state_dict().items()}}, src)
    dst = str(tmp_path / 'out.pth')
    result = run_tool(sys.executable,
                      'tools/model_converters/extract_pretrained.py', src, dst,
                      '--target', MINI_DEEPLAB)
    assert result.returncode == 1
    assert 'missing   backbone.stem.0.weight' in result.stdout
    assert '--allow-missing' in result.stdout
    assert not osp.exists(dst)


def test_mmpretrain_stem_layout_is_remapped(tmp_path):
    from mmpretrain.models.backbones import ResNetV1c
    pretrain_backbone = ResNetV1c(depth=18)
    src = str(tmp_path / 'mmpretrain.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in
                               pretrain_backbone.state_dict().items()},
                'meta': {}}, src)
    out = str(tmp_path / 'out.pth')
    reports = extract_pretrained(src, out, MINI_DEEPLAB, ['backbone'])
    assert reports[0].remap == 'mmpretrain->mmseg (ResNetV1c/V1d stem)'
    model = _init_from(MINI_DEEPLAB, out, ['backbone'])
    seg_stem = model.backbone.stem
    assert torch.equal(seg_stem[0].weight,
                       pretrain_backbone.stem[0].conv.weight)
    assert torch.equal(seg_stem[7].running_var,
                       pretrain_backbone.stem[2].bn.running_var)
    assert torch.equal(model.backbone.layer4[1].conv2.weight,
                       pretrain_backbone.layer4[1].conv2.weight)


def test_stem_remaps_are_inverse():
    keys = ['stem.0.conv.weight', 'stem.1.bn.running_mean',
            'stem.2.bn.weight', 'layer1.0.conv1.weight']
    to_seg = REMAPS['mmpretrain->mmseg (ResNetV1c/V1d stem)']
    to_pretrain = REMAPS['mmseg->mmpretrain (ResNetV1c/V1d stem)']
    assert [to_seg(k) for k in keys] == [
        'stem.0.weight', 'stem.4.running_mean', 'stem.7.weight',
        'layer1.0.conv1.weight'
    ]
    assert [to_pretrain(to_seg(k)) for k in keys] == keys
    assert choose_remap(['a', 'b'], ['a', 'b']) == 'identity'


def test_shape_mismatch_is_refused():
    from mmseg.models.backbones import ResNetV1c
    r18 = build_model(MINI_DEEPLAB)
    wider = {f'backbone.{k}': v for k, v in ResNetV1c(
        depth=18, base_channels=32).state_dict().items()}
    with pytest.raises(KeyMismatchError, match='shape'):
        extract_parts(wider, r18, ['backbone'])


def test_momentum_weights_are_chosen_by_flag():
    target = build_model(MINI_DEEPLAB)
    online = {f'backbone.{k}': torch.zeros_like(v)
              for k, v in target.backbone.state_dict().items()}
    momentum = {f'{MOMENTUM_PREFIX}backbone.{k}': torch.ones_like(v)
                for k, v in target.backbone.state_dict().items()}
    source = {**online, **momentum, 'queue': torch.randn(4, 8)}
    got, _ = extract_parts(source, target, ['backbone'], weights='online')
    assert all(v.sum() == 0 for v in got.values())
    got, reports = extract_parts(source, target, ['backbone'],
                                 weights='momentum')
    assert all(v.float().mean() == 1 for v in got.values())
    assert reports[0].source_prefix == MOMENTUM_PREFIX + 'backbone.'


def test_allow_lists_relax_only_what_they_name():
    target = build_model(MINI_DEEPLAB)
    state = {f'backbone.{k}': v
             for k, v in target.backbone.state_dict().items()
             if not k.startswith('layer4.')}
    state['backbone.extra.weight'] = torch.ones(1)
    with pytest.raises(KeyMismatchError):
        extract_parts(state, target, ['backbone'])
    got, reports = extract_parts(state, target, ['backbone'],
                                 allow_missing=[r'^layer4\.'],
                                 allow_unexpected=[r'^extra\.'])
    assert reports[0].allowed_missing and reports[0].ignored_unexpected
    assert not any(k.startswith('backbone.layer4.') for k in got)
    # the model's key, as the error message prints it, names the same keys
    _, full = extract_parts(state, target, ['backbone'],
                            allow_missing=[r'^backbone\.layer4\.'],
                            allow_unexpected=[r'^backbone\.extra\.'])
    assert full[0].allowed_missing == reports[0].allowed_missing


def test_evaluation_loads_a_partial_backbone_only_when_told(tmp_path):
    """A method that never trains Res5 (the hypercolumn) is evaluated on an
    earlier stage: the frozen protocols accept its file only with the
    missing stage named, and the named stage keeps its random init."""
    target = build_model(MINI_DEEPLAB)
    state = {f'backbone.{k}': torch.zeros_like(v)
             for k, v in target.backbone.state_dict().items()
             if not k.startswith('layer4.')}
    path = str(tmp_path / 'partial.pth')
    torch.save(state, path)
    with pytest.raises(IncompleteWeightsError, match='--allow-missing'):
        load_weights(build_model(MINI_DEEPLAB), path)
    # allowing half of the stage still names the other half
    with pytest.raises(IncompleteWeightsError, match=r'layer4\.1\.'):
        load_weights(build_model(MINI_DEEPLAB), path,
                     allow_missing=[r'^backbone\.layer4\.0\.'])
    model = build_model(MINI_DEEPLAB)
    model.init_weights()
    layer4 = model.backbone.layer4[0].conv1.weight.clone()
    load_weights(model, path, allow_missing=[r'^backbone\.layer4\.'])
    assert (model.backbone.layer3[0].conv1.weight == 0).all()
    assert torch.equal(model.backbone.layer4[0].conv1.weight, layer4)


def test_missing_part_names_what_the_source_has():
    target = build_model(MINI_DEEPLAB)
    with pytest.raises(KeyMismatchError, match='module.encoder_q.'):
        extract_parts({'module.encoder_q.conv1.weight': torch.ones(1)},
                      target, ['backbone'])


class _Payload:
    """Pickles as a call that would create a file if it were executed."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def test_reading_never_runs_code_a_checkpoint_names(tmp_path):
    sentinel = tmp_path / 'executed'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'backbone.w': torch.ones(2)},
                'evil': _Payload(str(sentinel))}, path)
    checkpoint = read_checkpoint(path)
    assert not sentinel.exists()
    assert torch.equal(state_dict_of(checkpoint)['backbone.w'], torch.ones(2))


def test_weights_digest_follows_tensors_not_files(tmp_path):
    """weights_sha256 is what caches key on: one digest for the same tensors
    in files that differ (meta, a full training checkpoint's extras), another
    for any changed value, dtype, shape or name."""
    state = {'a.weight': torch.randn(3, 4), 'a.count': torch.arange(5),
             'empty': torch.zeros(0)}

    def digest(tensors, name='w.pth', meta=None, full=False):
        path = str(tmp_path / name)
        if full:
            torch.save({'state_dict': tensors, 'optimizer': {'lr': 0.1}},
                       path)
        else:
            save_tensors_only(tensors, path, meta)
        return weights_sha256(path)

    same = digest(state, meta={'created': 'now'})
    assert digest(state, 'x.pth', {'created': 'later'}) == same
    assert digest(state, 'full.pth', full=True) == same
    changed = dict(state, **{'a.weight': state['a.weight'].clone()})
    changed['a.weight'][0, 0] += 1e-3
    assert digest(changed) != same
    assert digest(dict(state, **{'a.count': state['a.count'].float()})) != same
    assert digest(dict(state, **{'a.weight': state['a.weight'].view(
        4, 3)})) != same
    renamed = {('b.weight' if k == 'a.weight' else k): v
               for k, v in state.items()}
    assert digest(renamed) != same
