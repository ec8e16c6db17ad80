"""Datasets, label splits and configs."""
import glob
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmssl_seg.datasets import (
    CamVidDataset,
    NYUv2SegDataset,
    TextureMosaicDataset,
    build_texture_mosaics,
    build_weizmann_horses,
)
from mmssl_seg.datasets.label_splits import make_label_splits
from mmssl_seg.datasets.texture_mosaic import _crop
from mmssl_seg.models.builder import build_model
from tests.conftest import (
    CAMVID,
    HORSES,
    MINI_DEEPLAB,
    REPO,
    VOC12_MINI,
    needs_voc12_mini,
)

init_default_scope('mmseg')


# --------------------------------------------------------------------------- #
# texture mosaics
# --------------------------------------------------------------------------- #
@pytest.fixture(scope='module')
def mosaics(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('mosaics'))
    build_texture_mosaics(root, num_train=12, num_val=4, size=64, seed=3)
    return root


def test_mosaics_layout_and_labels(mosaics):
    for split, count in (('train', 12), ('val', 4)):
        images = sorted(glob.glob(osp.join(mosaics, 'images', split, '*')))
        labels = sorted(glob.glob(osp.join(mosaics, 'annotations', split,
                                           '*')))
        assert len(images) == len(labels) == count
        ids = open(osp.join(mosaics, f'{split}.txt')).read().split()
        assert len(ids) == count
        for path in labels:
            label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
            assert label.shape == (64, 64)
            assert len(np.unique(label)) >= 2
            assert label.max() < len(TextureMosaicDataset.METAINFO['classes'])


def test_mosaics_rerun_skips_and_is_deterministic(mosaics, tmp_path):
    first = osp.join(mosaics, 'images', 'train', '00005.jpg')
    mtime = osp.getmtime(first)
    build_texture_mosaics(mosaics, num_train=12, num_val=4, size=64, seed=3)
    assert osp.getmtime(first) == mtime  # skipped
    other = str(tmp_path / 'again')
    build_texture_mosaics(other, num_train=6, num_val=1, size=64, seed=3)
    for name in ('images/train/00005.jpg', 'annotations/train/00005.png'):
        assert open(osp.join(mosaics, name), 'rb').read() == open(
            osp.join(other, name), 'rb').read()


def test_mosaics_refuse_other_parameters(mosaics):
    with pytest.raises(ValueError, match='other parameters'):
        build_texture_mosaics(mosaics, num_train=12, num_val=4, size=64,
                              seed=4)


def test_val_crops_come_from_pixels_train_never_sees():
    source = np.zeros((100, 400, 3), np.uint8)
    source[:, 300:] = 255  # the right quarter: val only
    rng = np.random.default_rng(0)
    for _ in range(50):
        assert _crop(source, 'train', 32, rng).max() == 0
        assert _crop(source, 'val', 32, rng).min() == 255


def test_mosaic_dataset_loads_through_mmseg(mosaics):
    dataset = DATASETS.build(
        dict(type='TextureMosaicDataset', data_root=mosaics,
             data_prefix=dict(img_path='images/val',
                              seg_map_path='annotations/val'),
             pipeline=[dict(type='LoadImageFromFile'),
                       dict(type='LoadAnnotations')]))
    assert len(dataset) == 4
    item = dataset[0]
    assert item['img'].shape == (64, 64, 3)
    assert item['gt_seg_map'].shape == (64, 64)


# --------------------------------------------------------------------------- #
# VOC + SBD, NYUv2
# --------------------------------------------------------------------------- #
def _voc_aug(**kwargs):
    return DATASETS.build(dict(
        type='VOCAugDataset', data_root=VOC12_MINI,
        data_prefix=dict(img_path='JPEGImages',
                         seg_map_path=kwargs.pop('seg_map_path')),
        ann_file='ImageSets/Segmentation/train.txt', **kwargs))


def test_voc_aug_falls_back_to_voc_labels():
    needs_voc12_mini()
    dataset = _voc_aug(seg_map_path='SegmentationClassAug')  # absent here
    assert len(dataset) == 330
    info = dataset.get_data_info(0)
    assert info['seg_map_path'].startswith(
        osp.join(VOC12_MINI, 'SegmentationClass') + '/')
    assert osp.isfile(info['seg_map_path'])


def test_voc_aug_names_the_image_without_any_label():
    needs_voc12_mini()
    with pytest.raises(FileNotFoundError, match=r'no label for .*\.jpg'):
        _voc_aug(seg_map_path='SegmentationClassAug',
                 fallback_seg_map_path='NoSuchFolder')


def test_nyuv2_has_forty_distinct_classes_and_colours():
    meta = NYUv2SegDataset.METAINFO
    assert len(set(meta['classes'])) == 40
    assert len({tuple(c) for c in meta['palette']}) == 40


# --------------------------------------------------------------------------- #
# label splits
# --------------------------------------------------------------------------- #
def test_label_splits_sizes_nesting_and_determinism():
    ids = [f'img{i:04d}' for i in range(1000)]
    splits = make_label_splits(ids, fractions=(1, 12.5, 100), seeds=(0, 1))
    assert len(splits[(1, 0)]) == 10
    assert len(splits[(12.5, 0)]) == 125
    assert splits[(100, 0)] == ids
    assert set(splits[(1, 0)]) <= set(splits[(12.5, 0)])  # nested
    assert splits[(12.5, 0)] != splits[(12.5, 1)]  # seeds differ
    assert splits == make_label_splits(ids, (1, 12.5, 100), (0, 1))
    assert splits[(12.5, 1)] == sorted(splits[(12.5, 1)])  # list order kept


def test_label_splits_keep_at_least_one_and_reject_bad_input():
    assert len(make_label_splits(['a', 'b', 'c'], (1,), (0,))[(1, 0)]) == 1
    with pytest.raises(ValueError, match='duplicates'):
        make_label_splits(['a', 'a'])
    with pytest.raises(ValueError, match='not in'):
        make_label_splits(['a'], fractions=(0,))


# --------------------------------------------------------------------------- #
# every config loads, and every model in them builds
# --------------------------------------------------------------------------- #
CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True))


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    if cfg.get('model', {}).get('type') == 'LinearProbe':
        # the frozen model is filled in by tools/eval/linear_probe.py
        cfg.model.update(encoder=Config.fromfile(MINI_DEEPLAB).model,
                         in_channels=128)
    if 'model' in cfg:
        model = build_model(cfg)
        assert sum(p.numel() for p in model.parameters()) > 0
    for loader in ('train_dataloader', 'val_dataloader'):
        if cfg.get(loader) is not None:  # None: the config has no such loop
            assert DATASETS.get(cfg[loader].dataset.type) is not None
    json.dumps(cfg.to_dict(), default=str)  # serialisable for the log


# --------------------------------------------------------------------------- #
# unlabelled images
# --------------------------------------------------------------------------- #
def test_unlabelled_images_from_a_folder_or_a_list(tmp_path):
    needs_voc12_mini()
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()[:3]
    (tmp_path / 'seq' / 'a').mkdir(parents=True)
    (tmp_path / 'seq' / 'b').mkdir()
    for i, stem in enumerate(ids):
        image = cv2.imread(osp.join(VOC12_MINI, 'JPEGImages', stem + '.jpg'))
        cv2.imwrite(str(tmp_path / 'seq' / 'ab'[i % 2] / (stem + '.png')),
                    image)
    (tmp_path / 'seq' / 'b' / 'notes.txt').write_text('not an image')
    pipeline = [dict(type='LoadImageFromFile'), dict(type='RandomCrop',
                                                     crop_size=(32, 32))]
    folder = DATASETS.build(dict(
        type='UnlabelledImageDataset',
        data_prefix=dict(img_path=str(tmp_path / 'seq')), pipeline=pipeline))
    assert [osp.basename(folder.get_data_info(i)['img_path'])
            for i in range(len(folder))] == sorted(
                [f'{s}.png' for s in ids], key=lambda n: (
                    'ab'[ids.index(n[:-4]) % 2], n))
    assert folder[0]['img'].shape == (32, 32, 3)  # MMSeg transforms run
    listed = tmp_path / 'list.txt'
    listed.write_text(f'a/{ids[0]}\nb/{ids[1]}.png\n')
    subset = DATASETS.build(dict(
        type='UnlabelledImageDataset', ann_file=str(listed),
        data_prefix=dict(img_path=str(tmp_path / 'seq')), pipeline=[]))
    assert len(subset) == 2
    listed.write_text('a/missing\n')
    with pytest.raises(FileNotFoundError, match='missing'):
        DATASETS.build(dict(type='UnlabelledImageDataset',
                            ann_file=str(listed), data_prefix=dict(
                                img_path=str(tmp_path / 'seq'))))
    cv2.imwrite(str(tmp_path / 'seq' / 'b' / (ids[0] + '.jpg')), image)
    with pytest.raises(ValueError, match=f'two images named {ids[0]}'):
        DATASETS.build(dict(type='UnlabelledImageDataset', data_prefix=dict(
            img_path=str(tmp_path / 'seq'))))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='empty'):
        DATASETS.build(dict(type='UnlabelledImageDataset', data_prefix=dict(
            img_path=str(tmp_path / 'empty'))))


def test_prior_tools_list_the_pretraining_configs_images():
    """make_aux_labels.py --data PRETRAIN_CONFIG labels exactly the images
    the pretraining reads."""
    needs_voc12_mini()
    from mmssl_seg.priors.manifest import list_images
    config = osp.join(REPO, 'configs/aux_contrast/aux-contrast_deeplabv3_'
                      'r18-d8_1xb8-300_voc12mini-128x128.py')
    images = list_images(data_config=config, splits=['train'])
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()
    assert [s for s, _ in images] == sorted(ids)
    assert all(osp.isfile(p) for _, p in images)


def test_aux_label_pictures_take_a_palette_from_any_data_config(
        tmp_path, monkeypatch):
    """A training config of unlabelled images has no palette (the tool's
    picture step used to crash on it): PASCAL VOC's is drawn; a labelled
    config gives its own."""
    needs_voc12_mini()
    from mmseg.datasets import PascalVOCDataset

    from mmssl_seg.datasets.texture_mosaic import (
        TextureMosaicDataset,
        build_texture_mosaics,
    )
    from mmssl_seg.priors.aux_labels import ground_truth_palette
    aux = osp.join(REPO, 'configs/aux_contrast/aux-contrast_deeplabv3_'
                   'r18-d8_1xb8-300_voc12mini-128x128.py')
    voc = PascalVOCDataset.METAINFO['palette']
    assert ground_truth_palette(aux, 'train') == voc
    assert ground_truth_palette(None) == voc
    build_texture_mosaics(str(tmp_path), num_train=2, num_val=1)
    monkeypatch.setenv('MOSAIC_ROOT', str(tmp_path))
    mosaic = osp.join(REPO, 'configs/demo/'
                      'pspnet_r18-d8_1xb8-120_mosaic-64x64.py')
    assert ground_truth_palette(mosaic, 'train') == \
        TextureMosaicDataset.METAINFO['palette']


# --------------------------------------------------------------------------- #
# CamVid
# --------------------------------------------------------------------------- #
CAMVID_FINETUNE = osp.join(
    REPO, 'configs/finetune/deeplabv3_r18-d8_1xb8-250_camvid-112x112.py')


def test_camvid_reads_the_segnet_preparation():
    """The fine-tuning config's data: SegNet's 367 / 101 frames, labels as
    the PNGs hold them (0..10, 255 ignored, no class shift), scored at the
    frame's own 480 x 360, trained on 112 x 112 crops of a third of it."""
    if not osp.isdir(CAMVID):
        pytest.skip(f'real data not found: {CAMVID}')
    cfg = Config.fromfile(CAMVID_FINETUNE)
    assert cfg.model.decode_head.num_classes == len(
        CamVidDataset.METAINFO['classes']) == 11
    for split, count in (('train', 367), ('val', 101)):
        loader = cfg[f'{split}_dataloader']
        dataset = DATASETS.build(loader.dataset)
        assert len(dataset) == count
        assert dataset.ignore_index == 255
    val = DATASETS.build(cfg.val_dataloader.dataset)
    item = val[0]
    name = osp.basename(val.get_data_info(0)['seg_map_path'])
    label = cv2.imread(osp.join(CAMVID, 'labels', 'val', name),
                       cv2.IMREAD_UNCHANGED)
    assert label.shape == (360, 480)
    np.testing.assert_array_equal(
        item['data_samples'].gt_sem_seg.data[0].numpy(), label)
    assert item['inputs'].shape[1:] == (120, 160)
    assert set(np.unique(label)) <= set(range(11)) | {255}
    # 112 x 112 crops of the frame resized to 160 x 120 times 0.75-1.5: a
    # frame scaled below 112 px high gives a crop of its height (the data
    # preprocessor pads it), so over a few draws every crop fits 112 x 112
    # and the full crop occurs
    train = DATASETS.build(cfg.train_dataloader.dataset)
    np.random.seed(0)
    shapes = [tuple(train[i]['inputs'].shape[1:]) for i in range(8)]
    assert all(h <= 112 and w == 112 for h, w in shapes), shapes
    assert (112, 112) in shapes and min(h for h, _ in shapes) >= 90


# --------------------------------------------------------------------------- #
# Weizmann horses
# --------------------------------------------------------------------------- #
def test_weizmann_horse_split_is_the_documented_draw():
    """The packaged split: 180 train / 48 val, disjoint, and what its
    docstring says it is (the sorted ids permuted by default_rng(0), the
    first 48 for val); with the data, exactly its 228 photographs."""
    from mmssl_seg.datasets.weizmann_horse import read_split
    train, val = read_split('train'), read_split('val')
    assert (len(train), len(val)) == (180, 48)
    ids = sorted(train + val)
    assert len(set(ids)) == 228
    order = np.random.default_rng(0).permutation(228)
    assert sorted(ids[i] for i in order[:48]) == val
    if osp.isdir(HORSES):
        assert ids == sorted(
            f[:-4] for f in os.listdir(osp.join(HORSES, 'rgb')))


def _pil_label(mask_path: str, size: tuple[int, int]) -> np.ndarray:
    """The README's rule with PIL: the JPEG mask resized to the photograph
    (nearest), thresholded at 128."""
    from PIL import Image
    mask = Image.open(mask_path).convert('L')
    return (np.array(mask.resize(size, Image.NEAREST)) >= 128).astype(
        np.uint8)


@pytest.fixture(scope='module')
def horses(tmp_path_factory):
    if not osp.isdir(HORSES):
        pytest.skip(f'real data not found: {HORSES}')
    # every mask is smaller than its photograph: horse001's is 315 x 232
    # for 800 x 590
    splits = {'train': ['horse004', 'horse010', 'horse100'],
              'val': ['horse001', 'horse007']}
    root = str(tmp_path_factory.mktemp('horses'))
    build_weizmann_horses(HORSES, root, splits=splits)
    return root, splits


def test_weizmann_horses_convert_to_class_index_pngs(horses, tmp_path):
    from mmssl_seg.utils.errors import ParameterMismatchError
    from mmssl_seg.utils.io import sha256_of
    root, splits = horses
    for split, ids in splits.items():
        with open(osp.join(root, f'{split}.txt')) as f:
            assert f.read().split() == ids
        for name in ids:
            src = osp.join(HORSES, 'rgb', f'{name}.jpg')
            img = osp.join(root, 'images', split, f'{name}.jpg')
            assert sha256_of(img) == sha256_of(src)  # not re-encoded
            label = cv2.imread(osp.join(root, 'annotations', split,
                                        f'{name}.png'), cv2.IMREAD_UNCHANGED)
            h, w = cv2.imread(src).shape[:2]
            np.testing.assert_array_equal(label, _pil_label(
                osp.join(HORSES, 'figure_ground', f'{name}.jpg'), (w, h)))
            assert 0.05 < label.mean() < 0.8  # a horse and some ground
    # resumable: a lost label is written again, equal
    lost = osp.join(root, 'annotations', 'train', 'horse004.png')
    before = sha256_of(lost)
    os.remove(lost)
    build_weizmann_horses(HORSES, root, splits=splits)
    assert sha256_of(lost) == before
    with pytest.raises(ParameterMismatchError, match='other parameters'):
        build_weizmann_horses(HORSES, root, long_side=160, splits=splits)
    # resized: the long side, the labels following the photograph
    small = str(tmp_path / 'small')
    build_weizmann_horses(HORSES, small, long_side=160,
                          splits={'val': ['horse001']})
    image = cv2.imread(osp.join(small, 'images', 'val', 'horse001.jpg'))
    label = cv2.imread(osp.join(small, 'annotations', 'val',
                                'horse001.png'), cv2.IMREAD_UNCHANGED)
    assert image.shape[:2] == label.shape == (118, 160)  # 590 x 800 scaled
    from PIL import Image
    full = Image.fromarray(_pil_label(
        osp.join(HORSES, 'figure_ground', 'horse001.jpg'), (800, 590)))
    np.testing.assert_array_equal(
        label, np.array(full.resize((160, 118), Image.NEAREST)))


def test_weizmann_horse_config_reads_the_conversion(horses, monkeypatch):
    """The data config's val pipeline: 2 classes, labels as the PNGs hold
    them and scored at the photograph's own size, inputs fit 160 x 120."""
    root, splits = horses
    monkeypatch.setenv('HORSE_ROOT', root)
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/datasets/weizmann_horse.py'))
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(val) == 2 and val.metainfo['classes'] == ('background',
                                                         'horse')
    item = val[0]
    label = cv2.imread(osp.join(root, 'annotations', 'val', 'horse001.png'),
                       cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(
        item['data_samples'].gt_sem_seg.data[0].numpy(), label)
    h, w = item['inputs'].shape[1:]
    assert max(h / 120, w / 160) == pytest.approx(1, abs=0.01)
    assert len(DATASETS.build(cfg.train_dataloader.dataset)) == 3
