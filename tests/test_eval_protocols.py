"""The evaluation protocols end to end.

Planted cases: flat-colour images whose colour identifies the class, and a
stub model whose "embedding" is the pixel colour; every protocol must then be
perfect, which checks the wiring (features, resizing, mappings, retrieval).
Real cases: a random-init model on voc12_mini / DAVIS, numbers in range.
"""
import json
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from mmseg.structures import SegDataSample
from mmengine.structures import PixelData

from mmssl_seg.evaluation.features import build_eval_dataset, dense_features
from mmssl_seg.evaluation.metrics import SegmentIoUMetric
from mmssl_seg.evaluation.protocols.clustering import (SaliencyMasks,
                                                       object_kmeans,
                                                       pixel_kmeans)
from mmssl_seg.evaluation.protocols.pmiou import pmiou_of_folder
from mmssl_seg.evaluation.protocols.propagation import propagate_davis
from mmssl_seg.evaluation.protocols.retrieval import segment_retrieval
from mmssl_seg.utils.model import load_model
from tests.conftest import (MINI_DEEPLAB, REPO, SHARED_DATA, VOC12_MINI,
                            needs_voc12_mini, quick_options, run_tool)

init_default_scope('mmseg')
COLORS = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200],
                   [200, 200, 30], [30, 200, 200], [200, 30, 200]], np.uint8)


class ColourModel(torch.nn.Module):
    """Stub: the dense 'embedding' is the image colour, pooled by 4."""

    def __init__(self):
        super().__init__()
        from mmseg.models import SegDataPreProcessor
        self.data_preprocessor = SegDataPreProcessor(bgr_to_rgb=False)

    def dense_features(self, inputs, kind):
        return F.avg_pool2d(inputs, 4)


@pytest.fixture(scope='module')
def planted(tmp_path_factory):
    """Images split into two flat parts of two different classes, every
    class in every split; labels exact; layout of TextureMosaicDataset."""
    root = tmp_path_factory.mktemp('planted')
    rng = np.random.default_rng(0)
    for split, count in (('train', 12), ('val', 6)):
        (root / 'images' / split).mkdir(parents=True)
        (root / 'annotations' / split).mkdir(parents=True)
        for i in range(count):
            a, b = i % 6, (i + 1 + i // 6) % 6  # every class occurs
            label = np.full((32, 48), a, np.uint8)
            cut = 8 * rng.integers(1, 5)  # on the 4-pixel pooling grid
            label[:, cut:] = b
            cv2.imwrite(str(root / 'images' / split / f'{i:03d}.png'),
                        COLORS[label])
            cv2.imwrite(str(root / 'annotations' / split / f'{i:03d}.png'),
                        label)
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='PackSegInputs')]

    def dataset(split):
        return DATASETS.build(dict(
            type='TextureMosaicDataset', data_root=str(root),
            img_suffix='.png', pipeline=pipeline,
            data_prefix=dict(img_path=f'images/{split}',
                             seg_map_path=f'annotations/{split}')))

    return dict(root=root, train=dataset('train'), val=dataset('val'))


def test_planted_pixel_kmeans_is_perfect(planted):
    result = pixel_kmeans(ColourModel(), planted['val'], 6, ks=(6, 12),
                          seeds=(0, 1), kind='embedding')
    assert result['K']['6']['mapping'] == 'hungarian'
    assert result['K']['6']['mIoU']['mean'] == pytest.approx(100)
    assert result['K']['6']['PmIoU']['mean'] == pytest.approx(100)
    assert result['K']['12']['mapping'] == 'majority'
    assert result['K']['12']['mIoU']['mean'] == pytest.approx(100)


def test_planted_retrieval_finds_the_planted_neighbours(planted):
    result = segment_retrieval(ColourModel(), planted['train'],
                               planted['val'], 6, num_segments=2,
                               kind='embedding')
    assert result['mIoU'] == pytest.approx(100)
    # each train image has exactly its two planted segments in the bank
    assert result['bank_segments'] == 2 * len(planted['train'])


def test_planted_object_kmeans_uses_saliency_and_background(planted,
                                                            tmp_path):
    # "salient object": the right half; clustering it by colour is exact
    # for the right halves, and the left halves are all background
    for i in range(len(planted['val'])):
        info = planted['val'].get_data_info(i)
        label = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
        mask = (label != label[:, :1]).astype(np.uint8) * 255
        cv2.imwrite(str(tmp_path / osp.basename(info['img_path'])), mask)
    result = object_kmeans(ColourModel(), planted['val'], 6,
                           SaliencyMasks(str(tmp_path)), ks=(3, ),
                           seeds=(0, ), kind='embedding')
    assert result['objects'] == len(planted['val'])
    assert 0 < result['K']['3']['mIoU']['mean'] < 100


def test_saliency_masks_name_missing_and_missized_files(tmp_path):
    masks = SaliencyMasks(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='a.png'):
        masks('/x/a.jpg', (4, 4))
    cv2.imwrite(str(tmp_path / 'b.png'), np.zeros((3, 3), np.uint8))
    with pytest.raises(ValueError, match=r'b.png is \(3, 3\)'):
        masks('/x/b.jpg', (4, 4))


def test_pmiou_of_ground_truth_is_perfect_and_binary_works(tmp_path):
    needs_voc12_mini()
    from PIL import Image
    dataset = build_eval_dataset(
        osp.join(REPO, 'configs/_base_/datasets/voc12_mini.py'), 'val')
    (tmp_path / 'labels').mkdir()
    (tmp_path / 'masks').mkdir()
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        gt = np.array(Image.open(info['seg_map_path']))  # palette indices
        name = osp.basename(info['img_path'])[:-4] + '.png'
        cv2.imwrite(str(tmp_path / 'labels' / name), gt)
        foreground = ((gt > 0) & (gt < 255)).astype(np.uint8) * 255
        cv2.imwrite(str(tmp_path / 'masks' / name), foreground)
    full = pmiou_of_folder(str(tmp_path / 'labels'), dataset, 21)
    assert full['PmIoU'] == pytest.approx(100)  # all 21 classes occur
    assert full['mIoU_hungarian'] == pytest.approx(100)
    binary = pmiou_of_folder(str(tmp_path / 'masks'), dataset, None,
                             binary=True)
    assert binary['PmIoU'] == pytest.approx(100)
    # a mask that marks everything salient matches only the foreground IoU
    cv2.imwrite(str(tmp_path / 'masks' / name),
                np.full_like(foreground, 255))
    assert pmiou_of_folder(str(tmp_path / 'masks'), dataset, None,
                           binary=True)['PmIoU'] < 100


def test_segment_metric_by_hand():
    metric = SegmentIoUMetric(num_segments=3)
    metric.dataset_meta = {'classes': ('a', 'b')}
    pred = torch.tensor([[0, 0, 1, 2]])
    gt = torch.tensor([[0, 0, 1, 1]])
    sample = SegDataSample(pred_sem_seg=PixelData(data=pred),
                           gt_sem_seg=PixelData(data=gt)).to_dict()
    metric.process({}, [sample])
    result = metric.evaluate(1)
    assert result['segments/mIoU'] == pytest.approx(100)  # majority 1,2->b
    # PmIoU: S0=G0 (1), S1 vs G1: 1/2, S2 vs G1: 1/2 -> 2 / max(3, 2)
    assert result['segments/PmIoU'] == pytest.approx(100 * 2 / 3)


# --------------------------------------------------------------------------- #
# real data, random-init model
# --------------------------------------------------------------------------- #
@pytest.fixture(scope='module')
def random_model():
    needs_voc12_mini()
    return load_model(MINI_DEEPLAB, None)


@pytest.fixture(scope='module')
def voc(random_model):
    data = osp.join(REPO, 'configs/_base_/datasets/voc12_mini.py')
    return dict(train=build_eval_dataset(data, 'train', indices=12),
                val=build_eval_dataset(data, 'val', indices=8))


def test_real_pixel_kmeans_in_range(random_model, voc):
    result = pixel_kmeans(random_model, voc['val'], 21, ks=(21, 50),
                          seeds=(0, 1), kind='decoder')
    for k in ('21', '50'):
        assert 0 < result['K'][k]['mIoU']['mean'] < 30  # random features
        assert len(result['K'][k]['mIoU']['runs']) == 2


def test_real_retrieval_in_range(random_model, voc):
    result = segment_retrieval(random_model, voc['train'], voc['val'], 21,
                               kind='backbone')
    assert 0 <= result['mIoU'] < 50
    assert result['bank_segments'] > 12


def test_real_davis_propagation_in_range(random_model):
    davis = osp.join(SHARED_DATA, 'davis2016')
    if not osp.isdir(davis):
        pytest.skip(f'real data not found: {davis}')
    result = propagate_davis(random_model, davis, ['blackswan'],
                             max_frames=5, kind='backbone')
    assert 0 <= result['F'] <= 100 and 0 <= result['J'] <= 100
    # the object moves little over 5 frames: even random features, through
    # the spatial term, keep most of it
    assert result['J'] > 30


def _tool(*args):
    return run_tool(sys.executable, *args)


def test_cli_kmeans_and_report(tmp_path):
    needs_voc12_mini()
    out = str(tmp_path)
    result = _tool('tools/eval/kmeans.py', MINI_DEEPLAB, 'random',
                   '--feature', 'decoder', '--limit', '4', '--seeds', '0',
                   '1', '--out-dir', out)
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.load(open(osp.join(out, 'kmeans_pixel.json')))
    assert report['K']['21']['mapping'] == 'hungarian'
    table = open(osp.join(out, 'kmeans_pixel.md')).read().splitlines()
    assert table[0].startswith('| config | checkpoint | feature | level')
    assert 'wall time' in table[0] and '0 1' in table[2]


def test_cli_linear_probe_picks_on_heldout_not_val(tmp_path):
    needs_voc12_mini()
    options = [
        'train_cfg.max_epochs=1', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'test_dataloader.dataset.indices=6'
    ]
    # a work dir relative to the working directory, as users type it
    result = _tool('tools/eval/linear_probe.py', MINI_DEEPLAB, 'random',
                   '--lrs', '0.1', '0.01', '--heldout', '0.05', '--work-dir',
                   osp.relpath(tmp_path / 'probe', REPO), '--out-dir',
                   str(tmp_path),
                   '--cfg-options', *options)
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.load(open(tmp_path / 'linear_probe.json'))
    assert set(report['sweep']) == {'0.1', '0.01'}
    assert report['heldout_images'] == 16  # 5 % of 330
    heldout = open(tmp_path / 'probe' / 'probe_heldout.txt').read().split()
    train = open(tmp_path / 'probe' / 'probe_train.txt').read().split()
    val = open(osp.join(VOC12_MINI,
                        'ImageSets/Segmentation/val.txt')).read().split()
    assert not set(heldout) & set(train) and not set(heldout) & set(val)
    best = max(s['heldout_mIoU'] for s in report['sweep'].values())
    chosen = report['sweep'][f'{report["chosen_lr"]:g}']
    assert chosen['heldout_mIoU'] == best  # chosen on held-out, ties: first
    assert 0 <= report['val_mIoU'] <= 100


def test_cli_label_fraction(tmp_path):
    needs_voc12_mini()
    result = _tool('tools/eval/label_fraction.py', MINI_DEEPLAB, 'random',
                   '--fractions', '10', '--seeds', '0', '1', '--work-dir',
                   str(tmp_path / 'lf'), '--out-dir', str(tmp_path),
                   '--max-iters', '2', '--cfg-options', *quick_options(400))
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.load(open(tmp_path / 'label_fraction.json'))
    # --max-iters scaled the 400-iteration schedule (and its intervals)
    assert report['max_iters'] == 2
    # a run is reused on rerun only with the same settings
    assert all(r['settings']['max_iters'] == 2
               for r in report['runs'].values())
    assert osp.isfile(tmp_path / 'lf' / 'train_10pct_seed0' / 'iter_2.pth')
    ten = report['mIoU_per_fraction']['10']
    assert ten['labelled_images'] == 33 and len(ten['runs']) == 2
    assert osp.isfile(tmp_path / 'lf' / 'train_10pct_seed1' / 'result.json')


def test_cli_visualize_embeddings(tmp_path):
    needs_voc12_mini()
    out = str(tmp_path / 'emb.png')
    result = _tool('tools/eval/visualize_embeddings.py', MINI_DEEPLAB,
                   'random', '--indices', '0', '1', '--out', out)
    assert result.returncode == 0, result.stdout[-3000:]
    picture = cv2.imread(out)
    assert picture is not None and picture.shape[1] > 4 * 100


def test_features_refuse_unknown_kinds(random_model):
    with pytest.raises(ValueError, match='embedding'):
        dense_features(random_model, torch.zeros(1, 3, 32, 32), 'embedding')
