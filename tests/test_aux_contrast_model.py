"""Auxiliary-label contrast end to end on real VOC images: the data pipeline
(labels and superpixels moved with the image), one training step of the mini
config, the memory bank in checkpoints, degenerate batches, the hand-off."""
from __future__ import annotations

import copy
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, TRANSFORMS

from mmssl_seg.models.builder import build_model
from mmssl_seg.priors.aux_labels import make_aux_labels
from tests.conftest import MINI_DEEPLAB, REPO, VOC12_MINI, needs_voc12_mini
from tests.test_aux_labels import colour_features

MINI = osp.join(REPO, 'configs/aux_contrast/'
                'aux-contrast_deeplabv3_r18-d8_1xb8-300_voc12mini-128x128.py')


@pytest.fixture(scope='module')
def aux_folder(tmp_path_factory):
    needs_voc12_mini()
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()[:4]
    images = [(i, osp.join(VOC12_MINI, 'JPEGImages', i + '.jpg'))
              for i in ids]
    folder = tmp_path_factory.mktemp('aux')
    make_aux_labels(images, str(folder), colour_features, {'name': 'lab'},
                    k=6, superpixel_size=12)
    (folder / 'ids.txt').write_text('\n'.join(ids))
    return folder


@pytest.fixture(scope='module')
def mini_cfg(aux_folder):
    import os
    os.environ['AUX_LABELS'] = str(aux_folder)
    try:
        cfg = Config.fromfile(MINI)
    finally:
        del os.environ['AUX_LABELS']
    cfg.train_dataloader.dataset.ann_file = str(aux_folder / 'ids.txt')
    cfg.model.update(num_anchors=300, num_batch_candidates=300,
                     bank_size=200, bank_per_image=16)
    return cfg


def _batch(cfg, seed=0):
    init_default_scope('mmseg')
    np.random.seed(seed)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    return default_collate([dataset[i] for i in range(len(dataset))])


def test_pipeline_moves_labels_and_superpixels_with_the_image(mini_cfg,
                                                              aux_folder):
    data = _batch(mini_cfg)
    for sample in data['data_samples']:
        labels = sample.gt_sem_seg.data[0]
        superpixels = sample.gt_superpixels.data[0]
        assert labels.shape == superpixels.shape == (128, 128)
        # voting made labels constant on superpixels; still true after
        # resize, rotation and crop (nearest neighbour, same geometry)
        inside = labels != 255
        for s in superpixels[inside].unique()[:50]:
            values = labels[(superpixels == s) & inside].unique()
            assert len(values) == 1


def test_load_aux_labels_names_missing_and_mis_sized_files(aux_folder,
                                                           tmp_path):
    load = TRANSFORMS.build(dict(type='LoadAuxLabels', root=str(tmp_path)))
    image = osp.join(VOC12_MINI, 'JPEGImages', '2007_000032.jpg')
    with pytest.raises(FileNotFoundError, match='2007_000032.png'):
        load(dict(img_path=image, img=cv2.imread(image)))
    stem = open(aux_folder / 'ids.txt').read().split()[0]
    path = osp.join(VOC12_MINI, 'JPEGImages', stem + '.jpg')
    load = TRANSFORMS.build(dict(type='LoadAuxLabels', root=str(aux_folder)))
    with pytest.raises(ValueError, match=f'{stem}.png is'):
        load(dict(img_path=path, img=cv2.imread(path)[:50]))


def test_mean_cutout_fills_the_hole_with_its_mean():
    cut = TRANSFORMS.build(dict(type='MeanCutOut', prob=1.0,
                                ratio=(0.5, 0.5)))
    img = np.random.RandomState(0).randint(0, 255, (40, 40, 3)).astype(
        np.uint8)
    out = cut(dict(img=img.copy()))['img']
    changed = (out != img).any(-1)
    ys, xs = np.nonzero(changed)
    hole = out[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    assert hole.shape[:2] == (20, 20)
    assert (hole == hole[0, 0]).all()  # one colour
    np.testing.assert_allclose(
        hole[0, 0], img[ys.min():ys.max() + 1,
                        xs.min():xs.max() + 1].reshape(-1, 3).mean(0),
        atol=1)


def test_training_step_bank_and_exact_resume(mini_cfg):
    data = _batch(mini_cfg)
    torch.manual_seed(0)
    model = build_model(mini_cfg)
    model.init_weights()
    batch = model.data_preprocessor(data, True)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    for name in ('loss_contrast', 'loss_contrast_full',
                 'loss_contrast_aux'):
        assert torch.isfinite(losses[name]) and losses[name] > 0, name
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.momentum_encoder.parameters())
    assert model.bank.count == 4 * 16 and model.step == 1
    assert set(model.bank.images[:64].tolist()) == {0, 1, 2, 3}
    # the anchors and the batch candidates are two different sets
    assert int(losses['pairs_p0'] + losses['pairs_p1']) > 0
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert 'bank.feats' in state and 'aux_bank.labels' in state

    second = model.loss(batch['inputs'], batch['data_samples'])
    resumed = build_model(mini_cfg)
    resumed.load_state_dict(state)
    again = resumed.loss(batch['inputs'], batch['data_samples'])
    torch.testing.assert_close(second['loss_contrast'],
                               again['loss_contrast'])
    assert model.bank.count == resumed.bank.count == 128
    # images of the second batch have new ids: pairs with the bank are
    # cross-image pairs
    assert set(model.bank.images[64:128].tolist()) == {4, 5, 6, 7}


def test_a_small_level_splits_its_pixels_between_anchors_and_candidates(
        mini_cfg):
    """Where a level has fewer pixels than anchors + candidates (1/8 of a
    small crop: 4 x 16 x 16 = 1024 < 1000 + 1000), the two different sets
    share its pixels in proportion (512 each) instead of the anchors taking
    them all: the first version left 24 batch candidates here (none at all
    in the mosaic and CamVid configs, whose 1/8 levels have 512 and 1568
    pixels for 2000 and 4000 wanted), so every positive came from the bank
    and no anchor had a same-image positive (the suite's pairs_p0 and
    pairs_p1 were 0)."""
    from mmssl_seg.models.algorithms.aux_contrast import split_draw
    for drawn, a, c in [(1024, 1000, 1000), (512, 1000, 1000),
                        (1568, 2000, 2000), (3000, 1000, 2000),
                        (7, 1000, 3000), (2, 5, 5)]:
        got_a, got_c = (t.tolist() for t in split_draw(drawn, a, c))
        assert sorted(got_a + got_c) == list(range(drawn))
        expect = a if drawn >= a + c else round(drawn * a / (a + c))
        assert len(got_a) == max(1, min(drawn - 1, expect))
        # interleaved: the first half of the draw holds half of each set
        assert abs(sum(i < drawn // 2 for i in got_a) - len(got_a) / 2) <= 1
    # a level of one pixel or none: no negative or out-of-range position
    assert [t.tolist() for t in split_draw(1, 5, 5)] == [[], [0]]
    assert [t.tolist() for t in split_draw(0, 5, 5)] == [[], []]
    cfg = copy.deepcopy(mini_cfg)
    cfg.model.update(num_anchors=1000, num_batch_candidates=1000)
    data = _batch(cfg)
    torch.manual_seed(0)
    model = build_model(cfg)
    batch = model.data_preprocessor(data, True)
    seen = []
    loss = model.head.loss

    def spy(anchors, a_meta, candidates, c_meta):
        in_batch = c_meta.pixel >= 0  # bank rows have pixel id -1
        seen.append((a_meta.pixel, c_meta.pixel[in_batch],
                     a_meta.image, c_meta.image[in_batch]))
        return loss(anchors, a_meta, candidates, c_meta)

    model.head.loss = spy
    losses = model.loss(batch['inputs'], batch['data_samples'])
    a_pix, c_pix, a_img, c_img = seen[0]  # the 1/8 level
    assert len(a_pix) == len(c_pix) == 512
    assert not set(a_pix.tolist()) & set(c_pix.tolist())
    assert set(a_img.tolist()) == set(c_img.tolist()) == {0, 1, 2, 3}
    assert int(losses['pairs_p1']) > 0  # same-image positives at 1/8


def _gloo_worker(rank, world, port, cfg_file, out, void_rank=-1):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world)
    cfg = Config.fromfile(cfg_file)
    data = _batch(cfg)
    half = {k: v[2 * rank:2 * rank + 2] for k, v in data.items()}
    if rank == void_rank:  # every crop of this rank's batch is void
        for sample in half['data_samples']:
            sample.gt_sem_seg.data[:] = 255
    torch.manual_seed(0)  # same weights on both ranks, as DDP broadcasts
    model = build_model(cfg)
    batch = model.data_preprocessor(half, True)
    model.loss(batch['inputs'], batch['data_samples'])
    torch.save({k: v.clone() for k, v in model.state_dict().items()
                if k.startswith(('bank.', 'aux_bank.', 'step'))},
               osp.join(out, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_banks_gather_both_ranks_under_gloo(mini_cfg, tmp_path):
    cfg_file = str(tmp_path / 'cfg.py')
    mini_cfg.dump(cfg_file)
    mp.spawn(_gloo_worker, args=(2, 29541, cfg_file, str(tmp_path)),
             nprocs=2)
    states = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
    bank = states[0]
    # 2 ranks x 2 images x 16 rows, rank 0's first; image ids are global
    assert int(bank['bank.count']) == 64 and int(bank['step']) == 1
    assert set(bank['bank.images'][:32].tolist()) == {0, 1}
    assert set(bank['bank.images'][32:64].tolist()) == {2, 3}
    assert set(bank['aux_bank.images'][32:64].tolist()) == {2, 3}


def test_a_rank_whose_batch_is_all_void_keeps_the_gather_whole(
        mini_cfg, tmp_path):
    """One rank's crops are all void: it still pushes its fixed number of
    bank rows (padding rows, label -1), so both ranks gather the same
    shapes (a rank that pushed no row aborted the gather) and hold the same
    bank."""
    cfg_file = str(tmp_path / 'cfg.py')
    mini_cfg.dump(cfg_file)
    mp.spawn(_gloo_worker, args=(2, 29543, cfg_file, str(tmp_path), 1),
             nprocs=2)
    states = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
    labels = states[0]['bank.labels']
    assert int(states[0]['bank.count']) == 64
    assert (labels[:32] >= 0).all() and (labels[32:64] == -1).all()


def test_all_ignored_labels_give_a_zero_loss(mini_cfg):
    data = _batch(mini_cfg)
    for sample in data['data_samples']:
        sample.gt_sem_seg.data[:] = 255
    model = build_model(mini_cfg)
    batch = model.data_preprocessor(data, True)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert total.item() == 0
    total.backward()
    # the bank took its fixed rows, all padding: no row enters a pair
    assert model.bank.count == 64 and (model.bank.labels[:64] == -1).all()


def test_hand_off_into_stock_deeplabv3(mini_cfg, tmp_path):
    from mmssl_seg.checkpoint.converter import extract_pretrained
    model = build_model(mini_cfg)
    src = str(tmp_path / 'aux.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, src)
    out = str(tmp_path / 'deeplabv3.pth')
    reports = extract_pretrained(src, out, MINI_DEEPLAB,
                                 ['backbone', 'decode_head'])
    saved = torch.load(out, weights_only=True)['state_dict']
    assert reports[1].new_layers == ['conv_seg.bias', 'conv_seg.weight']
    assert not any(k.startswith(('bank', 'momentum')) for k in saved)
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(saved['backbone.' + k], v)
