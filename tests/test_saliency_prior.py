"""The saliency prior tool and the MaskContrast data pipeline, on real
images (Weizmann horses, VOC) where images are involved."""
import glob
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS

from mmssl_seg.datasets.ground_truth import ground_truth_reader
from mmssl_seg.priors.manifest import Manifest, parse_shard, shard
from mmssl_seg.priors.saliency import (
    SaliencyQuality,
    make_saliency,
    postprocess,
)
from mmssl_seg.priors.saliency.handcrafted import rbd_saliency
from tests.conftest import DATA_ROOT, VOC12_MINI, needs_voc12_mini, run_tool

init_default_scope('mmseg')
HORSES = osp.join(DATA_ROOT, 'weizmann_horse')


def horses(n):
    if not osp.isdir(HORSES):
        pytest.skip(f'real data not found: {HORSES}')
    paths = sorted(glob.glob(osp.join(HORSES, 'rgb', '*.jpg')))[:n]
    return [(osp.splitext(osp.basename(p))[0], p) for p in paths]


def test_opencv_contrib_modules_are_installed():
    assert hasattr(cv2, 'ximgproc') and hasattr(cv2, 'saliency')


def test_postprocess_by_hand():
    soft = np.zeros((100, 100), np.float32)
    soft[10:40, 10:40] = 0.9  # 9 % of the image: kept
    soft[80:85, 80:85] = 0.9  # 0.25 %: removed as too small
    soft[60:70, 0:5] = 0.4  # below the threshold
    mask, decision = postprocess(soft)
    assert decision.kept and decision.components_removed == 1
    assert mask.sum() == 900 and decision.salient_fraction == 0.09
    _, decision = postprocess(np.zeros((10, 10)))
    assert not decision.kept and decision.reason == 'no salient pixel'
    tiny = np.zeros((100, 100))
    tiny[:5, :15] = 1  # 0.75 %: survives min_component 0.5 %, not min_salient
    _, decision = postprocess(tiny, min_component=0.005)
    assert not decision.kept and 'salient area 0.75%' in decision.reason


def test_quality_by_hand():
    gt = np.array([[1, 1, 0, 0], [1, 1, 0, 255]], np.uint8)
    quality = SaliencyQuality()
    quality.update(gt.astype(float) * (gt != 255), gt, (gt == 1))
    result = quality.compute()
    assert result['max_F_beta'] == pytest.approx(1.0)
    assert result['MAE'] == pytest.approx(0.0)
    assert result['mask_PmIoU'] == pytest.approx(100.0)
    quality = SaliencyQuality()
    quality.update(np.full(gt.shape, 0.5), gt)  # flat map, dropped image
    result = quality.compute()
    # at threshold <= 0.5 everything is foreground: P = 4/7, R = 1
    p = 4 / 7
    assert result['max_F_beta'] == pytest.approx(1.3 * p / (0.3 * p + 1))
    assert result['MAE'] == pytest.approx(0.5)


def test_rbd_finds_the_horses():
    hits = 0
    for stem, path in horses(8):
        image = cv2.imread(path)
        saliency = rbd_saliency(image)
        assert saliency.shape == image.shape[:2]
        assert 0 <= saliency.min() and saliency.max() <= 1
        gt = ground_truth_reader(osp.join(HORSES, 'figure_ground'),
                                 'binary')(stem, image.shape[:2])
        hits += saliency[gt == 1].mean() > saliency[gt == 0].mean() + 0.1
    assert hits >= 6  # clearly brighter on the horse in most images


def test_make_saliency_outputs_rerun_shards_and_manifest(tmp_path):
    images = horses(6)
    out = str(tmp_path / 'sal')
    gt = ground_truth_reader(osp.join(HORSES, 'figure_ground'), 'binary')
    halves = [make_saliency(images, out, 'spectral_residual',
                            shard_spec=(k, 2), ground_truth=gt)
              for k in (1, 2)]
    assert not halves[0]['complete'] and halves[1]['complete']
    merged = json.load(open(osp.join(out, 'manifest.json')))
    assert set(merged['entries']) == {s for s, _ in images}
    assert merged['params']['method'] == 'spectral_residual'
    kept = open(osp.join(out, 'kept.txt')).read().split()
    assert kept == sorted(s for s, e in merged['entries'].items()
                          if e['kept'])
    for stem in kept:
        mask = cv2.imread(osp.join(out, 'masks', stem + '.png'), 0)
        assert set(np.unique(mask)) <= {0, 255}
    assert 0 < halves[1]['quality']['max_F_beta'] <= 1
    assert halves[1]['quality']['images'] == 6
    # rerun: nothing recomputed
    soft = osp.join(out, 'soft', images[0][0] + '.png')
    mtime = os.stat(soft).st_mtime_ns
    make_saliency(images, out, 'spectral_residual', shard_spec=(1, 2))
    assert os.stat(soft).st_mtime_ns == mtime
    # other parameters in the same folder are refused
    with pytest.raises(ValueError, match='other parameters'):
        make_saliency(images, out, 'spectral_residual', threshold=0.3)
    assert not glob.glob(osp.join(out, '**', '*.tmp*'), recursive=True)


def test_kept_lists_per_split_and_dropped_images_in_evaluation(tmp_path):
    from mmssl_seg.evaluation.protocols.clustering import SaliencyMasks
    images = horses(4)
    split_of = {s: ('train' if i < 3 else 'val')
                for i, (s, _) in enumerate(images)}
    out = str(tmp_path / 'sal')
    # RBD keeps 43-53 % of these four: a 0.48 floor keeps two, drops two
    result = make_saliency(images, out, 'rbd', min_salient=0.48,
                           split_of=split_of)
    decisions = [e['kept'] for e in result['entries'].values()]
    assert True in decisions and False in decisions
    kept = set(open(osp.join(out, 'kept.txt')).read().split())
    train = set(open(osp.join(out, 'kept_train.txt')).read().split())
    assert train == {s for s in kept if split_of[s] == 'train'}
    masks = SaliencyMasks(out)
    for stem, path in images:
        shape = cv2.imread(path).shape[:2]
        if result['entries'][stem]['kept']:
            assert masks(path, shape).any()
        else:  # dropped by the manifest: no object, not an error
            assert not masks(path, shape).any()
    with pytest.raises(FileNotFoundError, match='nothere.png'):
        masks('/x/nothere.jpg', (4, 4))


def test_shards_are_disjoint_and_cover():
    items = list(range(10))
    parts = [shard(items, k, 3) for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == items
    assert parse_shard('2/3') == (2, 3) and parse_shard(None) == (1, 1)
    with pytest.raises(ValueError):
        parse_shard('4/3')


def test_imported_masks_are_validated_and_converted(tmp_path):
    images = horses(2)
    masks = tmp_path / 'user_masks'
    masks.mkdir()
    stem, path = images[0]
    h, w = cv2.imread(path).shape[:2]
    soft = np.zeros((h, w), np.uint8)
    soft[h // 4:3 * h // 4, w // 4:3 * w // 4] = 1  # a 0/1 mask
    cv2.imwrite(str(masks / (stem + '.png')), soft)
    cv2.imwrite(str(masks / (images[1][0] + '.png')),
                np.zeros((h + 1, w), np.uint8))  # wrong size
    with pytest.raises(ValueError, match=images[1][0] + r'.png is'):
        make_saliency(images, str(tmp_path / 'out'), 'imported',
                      import_dir=str(masks))
    result = make_saliency(images[:1], str(tmp_path / 'out2'), 'imported',
                           import_dir=str(masks))
    assert result['entries'][stem]['kept']
    converted = cv2.imread(str(tmp_path / 'out2' / 'masks' / (stem + '.png')),
                           0)
    assert converted.max() == 255 and (converted > 0).mean() == \
        pytest.approx(0.25, abs=0.02)


def test_manifest_refuses_another_tool(tmp_path):
    Manifest(str(tmp_path), 'a', {'x': 1}).save()
    with pytest.raises(ValueError, match='other parameters'):
        Manifest(str(tmp_path), 'b', {'x': 1})


def test_cli_make_saliency_with_quality(tmp_path):
    horses(1)
    ids = tmp_path / 'ids.txt'
    ids.write_text('horse001\nhorse002\n')
    result = run_tool(sys.executable, 'tools/priors/make_saliency.py',
                      str(tmp_path / 'out'), '--images',
                      osp.join(HORSES, 'rgb'), '--ids', str(ids),
                      '--method', 'fine_grained', '--workers', '2',
                      '--gt-dir', osp.join(HORSES, 'figure_ground'),
                      '--gt-kind', 'binary')
    assert result.returncode == 0, result.stdout[-2000:]
    assert 'max F-beta' in result.stdout
    report = json.load(open(tmp_path / 'out' / 'saliency_quality.json'))
    assert report['images'] == 2 and report['params']['method'] == \
        'fine_grained'


# --------------------------------------------------------------------------- #
# data pipeline
# --------------------------------------------------------------------------- #
def _voc_with_gt_masks(tmp_path, count=12):
    """Real VOC images with their ground-truth foreground as masks."""
    from PIL import Image
    needs_voc12_mini()
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()[:count]
    (tmp_path / 'masks').mkdir(exist_ok=True)
    for i in ids:
        gt = np.array(Image.open(osp.join(VOC12_MINI, 'SegmentationClass',
                                          i + '.png')))
        cv2.imwrite(str(tmp_path / 'masks' / (i + '.png')),
                    ((gt > 0) & (gt < 255)).astype(np.uint8) * 255)
    return ids


def test_load_saliency_mask_names_missing_and_missized(tmp_path):
    load = TRANSFORMS.build(dict(type='LoadSaliencyMask',
                                 root=str(tmp_path)))
    with pytest.raises(FileNotFoundError, match=r'masks/a\.png .*img/a\.jpg'):
        load(dict(img_path='img/a.jpg', img=np.zeros((4, 4, 3), np.uint8)))
    (tmp_path / 'masks').mkdir()
    cv2.imwrite(str(tmp_path / 'masks' / 'b.png'), np.zeros((5, 4), np.uint8))
    with pytest.raises(ValueError, match=r'b\.png is \(5, 4\).*img/b\.jpg'):
        load(dict(img_path='img/b.jpg', img=np.zeros((4, 4, 3), np.uint8)))


@pytest.mark.parametrize('bounds', [(0.1, 1.0), (0.01, 0.99)])
def test_views_keep_the_salient_area_within_bounds(tmp_path, bounds):
    ids = _voc_with_gt_masks(tmp_path)
    pipeline = [TRANSFORMS.build(t) for t in (
        dict(type='LoadImageFromFile'),
        dict(type='LoadSaliencyMask', root=str(tmp_path)),
        dict(type='SaliencyViews', size=64, min_area=bounds[0],
             max_area=bounds[1], flip_prob=0.5,
             photometric=[dict(type='mmpretrain.ColorJitter',
                               brightness=0.4)]),
        dict(type='PackSaliencyViews'))]
    produced = 0
    for seed in range(3):
        np.random.seed(seed)
        for i in ids:
            results = dict(img_path=osp.join(VOC12_MINI, 'JPEGImages',
                                             i + '.jpg'))
            for t in pipeline:
                results = t(results)
                if results is None:
                    break
            if results is None:
                continue  # the dataset would draw another image
            produced += 1
            masks = results['data_samples'].gt_saliency.data
            assert masks.shape == (2, 64, 64)
            assert [tuple(v.shape) for v in results['inputs']] == [
                (3, 64, 64)] * 2
            for view in masks:
                # nearest resizing moves the fraction by a few pixels
                fraction = view.float().mean().item()
                assert bounds[0] - 0.03 <= fraction <= bounds[1] + 0.03
    assert produced >= len(ids)  # most images give valid views


def test_views_give_up_after_bounded_tries():
    views = TRANSFORMS.build(dict(type='SaliencyViews', size=8,
                                  min_area=0.5, max_tries=5))
    mask = np.zeros((50, 50), np.uint8)
    mask[0, 0] = 1  # far too small to fill half of any crop
    assert views(dict(img=np.zeros((50, 50, 3), np.uint8),
                      gt_saliency=mask)) is None
