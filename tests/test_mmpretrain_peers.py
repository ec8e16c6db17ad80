"""MMPretrain's DenseCL and MoCo v2 as the benchmark's peer rows: the
configs build MMPretrain's own registered algorithms, a DenseCL run on real
mosaic images reads our unlabelled-image dataset through MMPretrain's
pipeline, and its checkpoint (MMPretrain's exact key layout: momentum
encoder, queues, neck) hands its online backbone to the 7x7-stem DeepLabV3
with no key left at random init - and is refused by the deep-stem one."""
from __future__ import annotations

import glob
import os
import os.path as osp
import sys

import pytest
import torch

from benchmarks.suite.suite import (
    MOSAIC_EVAL_CONFIGS,
    MOSAIC_PEER_CONFIGS,
    PRETRAIN_CONFIGS,
)
from mmssl_seg.checkpoint.layouts import KeyMismatchError

from .conftest import REPO, run_tool

V1B = MOSAIC_EVAL_CONFIGS['resnet18_v1b']
V1C = MOSAIC_EVAL_CONFIGS['resnet18']


def _build(config: str):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, config))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return MODELS.build(cfg.model)


@pytest.mark.parametrize('config,algorithm,queue', [
    (MOSAIC_PEER_CONFIGS['mmpretrain_densecl'], 'DenseCL', 224),
    (MOSAIC_PEER_CONFIGS['mmpretrain_mocov2'], 'MoCo', 224),
    (PRETRAIN_CONFIGS['mmpretrain_densecl'], 'DenseCL', 320),
    (PRETRAIN_CONFIGS['mmpretrain_mocov2'], 'MoCo', 320)])
def test_peer_configs_build_mmpretrain_stock_algorithms(config, algorithm,
                                                        queue):
    import mmpretrain.models as stock
    model = _build(config)
    assert type(model) is getattr(stock, algorithm)  # theirs, not a copy
    assert type(model.backbone) is stock.ResNet
    assert model.backbone.conv1.weight.shape == (64, 3, 7, 7)  # 7x7 stem
    assert model.queue.shape == (128, queue)  # one pass over the images


@pytest.mark.parametrize('method', sorted(MOSAIC_PEER_CONFIGS))
def test_peer_checkpoint_layout_fits_the_v1b_segmentor_only(method,
                                                            tmp_path):
    from mmssl_seg.checkpoint.converter import extract_pretrained
    model = _build(MOSAIC_PEER_CONFIGS[method])
    src = str(tmp_path / 'peer.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, src)
    out = str(tmp_path / 'backbone.pth')
    extract_pretrained(src, out, osp.join(REPO, V1B), ['backbone'])
    weights = torch.load(out, weights_only=True)['state_dict']
    online = {k: v for k, v in model.state_dict().items()
              if k.startswith('backbone.')}
    assert weights.keys() == online.keys()
    for key, value in online.items():
        assert torch.equal(weights[key], value), key
    with pytest.raises(KeyMismatchError):  # the deep stem has other keys
        extract_pretrained(src, str(tmp_path / 'v1c.pth'),
                           osp.join(REPO, V1C), ['backbone'])


def test_densecl_trains_on_mosaics_and_hands_off(tmp_path):
    root = str(tmp_path / 'mosaics')
    result = run_tool(sys.executable, 'tools/make_texture_mosaics.py', root,
                      '--num-train', '4', '--num-val', '1', '--size', '64')
    assert result.returncode == 0, result.stdout[-3000:]
    work = str(tmp_path / 'run')
    result = run_tool(
        sys.executable, 'tools/train.py',
        MOSAIC_PEER_CONFIGS['mmpretrain_densecl'], '--work-dir', work,
        '--max-iters', '2', '--cfg-options',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        env={'MOSAIC_ROOT': root})
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'loss_dense' in result.stdout
    ckpt = torch.load(osp.join(work, 'iter_2.pth'), map_location='cpu',
                      weights_only=False)['state_dict']
    # MMPretrain's layout: the momentum encoder and both queues beside it
    assert {'queue', 'queue2',
            'encoder_k.module.0.conv1.weight'} <= ckpt.keys()
    out = str(tmp_path / 'backbone.pth')
    result = run_tool(sys.executable,
                      'tools/model_converters/extract_pretrained.py',
                      osp.join(work, 'iter_2.pth'), out, '--target', V1B,
                      '--parts', 'backbone')
    assert result.returncode == 0, result.stdout[-3000:]
    weights = torch.load(out, weights_only=True)['state_dict']
    # the online encoder, which the optimiser trained, not the momentum one
    assert torch.equal(weights['backbone.layer4.1.conv2.weight'],
                       ckpt['backbone.layer4.1.conv2.weight'])
    assert not torch.equal(ckpt['backbone.layer4.1.conv2.weight'],
                           ckpt['encoder_k.module.0.layer4.1.conv2.weight'])


def test_building_a_peer_leaves_the_default_scope_alone():
    """Building an MMPretrain model must not leave ``mmpretrain`` as the
    process's default scope: a later bare ``type`` (our dataset) would be
    looked up in MMPretrain's registry (it was, in the full test run)."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS

    from mmssl_seg.models.builder import build_model
    def current() -> str | None:
        scope = DefaultScope.get_current_instance()
        return scope and scope.scope_name

    before = current()
    assert before != 'mmpretrain'
    build_model(osp.join(REPO, MOSAIC_PEER_CONFIGS['mmpretrain_mocov2']))
    assert current() == before
    assert DATASETS.get('UnlabelledImageDataset') is not None


@pytest.mark.parametrize('regime', ['camvid-112x112', 'horses-112x112',
                                    'mosaic-64x64', 'voc12mini-128x128'])
def test_the_peers_of_a_regime_differ_only_in_their_algorithm(regime):
    """The fairness of the comparison is built in: both peers read one
    regime base, and their final configs agree on the data, views,
    sizes, optimiser and schedule; only MMPretrain's algorithm differs."""
    from mmengine.config import Config
    paths = sorted(glob.glob(osp.join(REPO, 'configs/mmpretrain',
                                      f'*_r18_1xb16-*_{regime}.py')))
    assert [osp.basename(p).split('_')[0] for p in paths] == [
        'densecl', 'mocov2']
    cfgs = [Config.fromfile(p) for p in paths]
    base = f'../_base_/peers/{regime.split("-")[0]}.py'
    for path in paths:
        assert base in Config._get_base_files(path)
    for key in ('train_dataloader', 'view_pipeline', 'param_scheduler',
                'train_cfg', 'optim_wrapper', 'default_hooks',
                'log_processor', 'auto_scale_lr', 'custom_imports',
                'data_preprocessor'):
        assert cfgs[0][key] == cfgs[1][key], key
    models = [c.model for c in cfgs]
    assert [m.type for m in models] == ['DenseCL', 'MoCo']
    for part in ('backbone', 'queue_len'):
        assert models[0][part] == models[1][part], part
    assert models[0].neck.in_channels == models[1].neck.in_channels == 512



def test_horses_mask_contrast_starts_from_the_mocov2_hand_off(tmp_path):
    """The horses regime's pipeline as its stages run it: MMPretrain's MoCo
    v2 checkpoint (its exact layout) -> the suite's hand-off command -> the
    start MaskContrast's pretraining declares, every backbone weight filled
    from MoCo v2's online encoder (the paper starts from MoCo v2); each seed
    from its own MoCo v2 seed, after that hand-off; the random-init row
    drops the start on purpose."""
    import importlib.util

    from mmengine.config import Config

    from benchmarks.suite import SuiteOptions, suite_stages
    from mmssl_seg.engine.hooks import pretrained_gaps
    from mmssl_seg.models.builder import build_model
    opts = SuiteOptions(suite='horses', work_dir=str(tmp_path))
    stages = suite_stages(opts)
    by_name = {s.name: s for s in stages}
    order = [s.name for s in stages]
    extract = by_name['mmpretrain_mocov2.extract']
    moco = _build(by_name['mmpretrain_mocov2.pretrain'].argv[1])
    src = extract.argv[1]
    os.makedirs(osp.dirname(src))
    torch.save({'state_dict': moco.state_dict(), 'meta': {}}, src)
    spec = importlib.util.spec_from_file_location(
        'converter_tool', osp.join(REPO, extract.argv[0]))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(list(extract.argv[1:])) == 0
    for row in ('mask_contrast', 'shuffled_prior_mask_contrast',
                'oracle_prior_mask_contrast'):
        for suffix in ('', '_seed1', '_seed2'):
            stage = by_name[f'{row}.pretrain{suffix}']
            hand_off = f'mmpretrain_mocov2.extract{suffix}'
            assert hand_off in stage.deps
            assert order.index(hand_off) < order.index(stage.name)
            assert ('model.backbone.init_cfg.checkpoint=' +
                    by_name[hand_off].outputs[0]) in stage.argv
    stage = by_name['mask_contrast.pretrain']
    cfg = Config.fromfile(osp.join(REPO, stage.argv[1]))
    cfg.merge_from_dict(dict(
        a.split('=', 1) for a in stage.argv
        if a.startswith('model.backbone.init_cfg')))
    model = build_model(cfg)
    assert pretrained_gaps(model) == []
    model.init_weights()
    online = moco.backbone.state_dict()
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, online[key]), key
    assert torch.equal(
        model.momentum_encoder.module.backbone.layer4[1].conv2.weight,
        online['layer4.1.conv2.weight'])
    random = by_name['random_init_mask_contrast.pretrain']
    assert 'model.backbone.init_cfg=None' in random.argv
    assert not any(d.startswith('mmpretrain_') for d in random.deps)
