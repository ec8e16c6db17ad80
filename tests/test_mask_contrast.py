"""MaskContrast end to end on real VOC images: training through the tools,
state in checkpoints, exact resume, hand-off to stock DeepLabV3, and the
queue under two-process DDP."""
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from mmssl_seg.checkpoint.converter import extract_pretrained
from mmssl_seg.checkpoint.io import read_checkpoint, state_dict_of
from mmssl_seg.checkpoint.layouts import MOMENTUM_PREFIX
from tests.conftest import (
    REPO,
    VOC12_MINI,
    needs_voc12_mini,
    run_tool,
)

CONFIG = osp.join(
    REPO, 'configs/mask_contrast/'
        'mask-contrast_r18-d8_1xb16-500_voc12mini-96x96.py')
FINETUNE = osp.join(
    REPO, 'configs/mask_contrast/'
    'deeplabv3-mask-contrast_r18-d8_1xb8-400_voc12mini-128x128.py')


@pytest.fixture(scope='module')
def saliency_dir(tmp_path_factory):
    """Ground-truth foreground of 24 real VOC train images as saliency masks
    (the pipeline is what is tested here, not the prior)."""
    from PIL import Image
    needs_voc12_mini()
    root = tmp_path_factory.mktemp('saliency')
    (root / 'masks').mkdir()
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()[:24]
    for i in ids:
        gt = np.array(Image.open(osp.join(VOC12_MINI, 'SegmentationClass',
                                          i + '.png')))
        cv2.imwrite(str(root / 'masks' / (i + '.png')),
                    ((gt > 0) & (gt < 255)).astype(np.uint8) * 255)
    (root / 'kept_train.txt').write_text('\n'.join(ids) + '\n')
    return str(root)


def options(iters, batch=4, size=32, queue=8):
    return [
        f'train_cfg.max_iters={iters}', f'train_dataloader.batch_size={batch}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.pipeline.2.size={size}',
        f'model.queue_size={queue}', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=2', 'randomness.seed=0',
        'param_scheduler.0.end=4'
    ]


def train(work_dir, saliency_dir, *args, env=None):
    result = run_tool(sys.executable, 'tools/train.py', CONFIG, '--work-dir',
                      work_dir, *args,
                      env=dict(SALIENCY_DIR=saliency_dir, **(env or {})))
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


@pytest.fixture(scope='module')
def straight(tmp_path_factory, saliency_dir):
    work_dir = str(tmp_path_factory.mktemp('straight'))
    log = train(work_dir, saliency_dir, '--cfg-options', *options(4))
    return work_dir, log


def test_training_logs_losses_and_saves_all_state(straight):
    work_dir, log = straight
    assert 'loss_contrast' in log and 'loss_saliency' in log
    state = state_dict_of(read_checkpoint(osp.join(work_dir, 'iter_4.pth')))
    assert state['queue.prototypes'].shape == (8, 32)
    # 4 iterations x 4 prototypes through a queue of 8: full, pointer at 0
    assert int(state['queue.count']) == 8 and int(state['queue.ptr']) == 0
    assert torch.allclose(state['queue.prototypes'].norm(dim=1),
                          torch.ones(8), atol=1e-5)
    online = {k for k in state if k.startswith(('backbone.', 'decode_head.'))}
    momentum = {k[len(MOMENTUM_PREFIX):] for k in state
                if k.startswith(MOMENTUM_PREFIX)}
    assert online == momentum  # a full key encoder is saved
    # the key encoder moved away from its start but is not the online one
    key = 'decode_head.conv_seg.weight'
    assert not torch.equal(state[key], state[MOMENTUM_PREFIX + key])


def test_resume_gives_the_same_result_as_not_stopping(straight, saliency_dir,
                                                     tmp_path):
    work_dir = str(tmp_path / 'resumed')
    train(work_dir, saliency_dir, '--cfg-options', *options(2))
    log = train(work_dir, saliency_dir, '--resume', '--cfg-options',
                *options(4))
    assert 'resumed epoch: 0, iter: 2' in log
    a = state_dict_of(read_checkpoint(osp.join(straight[0], 'iter_4.pth')))
    b = state_dict_of(read_checkpoint(osp.join(work_dir, 'iter_4.pth')))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-6), k


def test_no_gradient_reaches_the_key_encoder(saliency_dir):
    from mmengine.config import Config
    from mmengine.dataset import default_collate
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from mmssl_seg.models.builder import build_model
    os.environ['SALIENCY_DIR'] = saliency_dir
    cfg = Config.fromfile(CONFIG)
    cfg.model.queue_size = 4
    cfg.train_dataloader.dataset.pipeline[2].size = 32
    init_default_scope('mmseg')
    model = build_model(cfg)
    model.init_weights()
    # the key encoder starts as a copy of the online encoder (MoCo)
    for k, v in model.online_encoder.state_dict().items():
        assert torch.equal(v, model.momentum_encoder.module.state_dict()[k])
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = default_collate([dataset[i] for i in range(2)])
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    (losses['loss_contrast'] + losses['loss_saliency']).backward()
    assert all(p.grad is None
               for p in model.momentum_encoder.parameters())
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    assert model.decode_head.conv_seg.weight.grad.abs().sum() > 0
    assert int(model.queue.count) == 2


@pytest.mark.parametrize('balance', [False, True])
def test_gathered_and_fixed_shape_steps_agree(saliency_dir, balance,
                                              monkeypatch):
    """The CPU path (salient pixels gathered) and the GPU path (every pixel,
    masks as weights) give the same losses, gradients and queue, in
    float64."""
    import copy

    from mmengine.config import Config
    from mmengine.dataset import default_collate
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from mmssl_seg.models.builder import build_model
    monkeypatch.setenv('SALIENCY_DIR', saliency_dir)
    cfg = Config.fromfile(CONFIG)
    cfg.model.queue_size = 8
    cfg.model.head.loss_contrast.balance_images = balance
    cfg.train_dataloader.dataset.pipeline[2].size = 32
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = build_model(cfg)
    model.init_weights()
    model.double()
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = default_collate([dataset[i] for i in range(3)])
    data = model.data_preprocessor(batch, True)
    inputs = [x.double() for x in data['inputs']]
    results = []
    for fixed in (True, False):
        twin = copy.deepcopy(model)
        twin.fixed_shapes = fixed
        losses = twin.loss(inputs, data['data_samples'])
        (losses['loss_contrast'] + losses['loss_saliency']).backward()
        results.append((losses, twin))
    (a, ma), (b, mb) = results
    for key in ('loss_contrast', 'loss_saliency', 'salient_pixels'):
        torch.testing.assert_close(a[key].double(), b[key].double())
    assert a['salient_pixels'] > 0
    for (name, p), q in zip(ma.named_parameters(), mb.parameters()):
        if p.grad is not None or q.grad is not None:
            torch.testing.assert_close(p.grad, q.grad, msg=name)
    torch.testing.assert_close(ma.queue.prototypes, mb.queue.prototypes)


@pytest.mark.parametrize('weights', ['online', 'momentum'])
def test_hand_off_of_the_whole_network(straight, tmp_path, weights):
    """Backbone and DeepLab-v3 head into the fine-tuning config (a stock
    MMSeg EncoderDecoder of the same architecture), as the paper
    fine-tunes."""
    out = str(tmp_path / 'pretrained.pth')
    reports = extract_pretrained(osp.join(straight[0], 'iter_4.pth'), out,
                                 FINETUNE, ['backbone', 'decode_head'],
                                 weights=weights)
    source = state_dict_of(read_checkpoint(osp.join(straight[0],
                                                    'iter_4.pth')))
    saved = torch.load(out, weights_only=True)['state_dict']
    prefix = MOMENTUM_PREFIX if weights == 'momentum' else ''
    for key, value in saved.items():
        assert torch.equal(value, source[prefix + key])
    assert reports[1].new_layers == ['conv_seg.bias', 'conv_seg.weight']
    assert any(k.startswith('decode_head.project.') for k in saved)


def _gloo_worker(rank, world, port, out):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    from mmssl_seg.models.utils import FeatureQueue
    torch.manual_seed(0)  # same initial queue on every rank
    queue = FeatureQueue(6, {'p': ((2, ), torch.float32),
                             'rank': ((), torch.long)})
    for step in range(2):  # 2 ranks x 2 rows x 2 steps: wraps around
        queue.push(p=torch.full((2, 2), float(10 * rank + step)),
                   rank=torch.full((2, ), rank))
    torch.save({k: v.clone() for k, v in queue.state_dict().items()},
               osp.join(out, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_queue_gathers_across_two_gloo_processes(tmp_path):
    mp.spawn(_gloo_worker, args=(2, 29531, str(tmp_path)), nprocs=2)
    q0 = torch.load(tmp_path / 'rank0.pth')
    q1 = torch.load(tmp_path / 'rank1.pth')
    for k in q0:
        assert torch.equal(q0[k], q1[k]), k  # every rank holds one queue
    # step 0 wrote [r0, r0, r1, r1] at 0..3; step 1 wrote 4, 5, 0, 1
    assert q0['rank'].tolist() == [1, 1, 1, 1, 0, 0]
    assert q0['p'][:, 0].tolist() == [11, 11, 10, 10, 1, 1]
    assert int(q0['ptr']) == 2 and int(q0['count']) == 6


def test_two_process_training_queues_the_global_batch(saliency_dir,
                                                       tmp_path):
    work_dir = str(tmp_path / 'ddp')
    result = run_tool('bash', 'tools/dist_train.sh', CONFIG, '2',
                      '--work-dir', work_dir, '--cfg-options',
                      *options(2, batch=2, queue=16),
                      env=dict(SALIENCY_DIR=saliency_dir, PORT='29533',
                               PYTHON=sys.executable))
    assert result.returncode == 0, result.stdout[-3000:]
    state = state_dict_of(read_checkpoint(osp.join(work_dir, 'iter_2.pth')))
    # 2 iterations x 2 ranks x 2 images
    assert int(state['queue.count']) == 8
