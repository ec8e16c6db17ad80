"""Auxiliary labels on real VOC images: multi-scale features, K-means with a
5 % outlier drop, superpixel voting, outputs, reruns, shards, PmIoU, CLI."""
from __future__ import annotations

import filecmp
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmssl_seg.priors.aux_labels import (MultiScaleExtractor,
                                         class_ground_truth, make_aux_labels,
                                         sweep_k, vote)
from tests.conftest import MINI_DEEPLAB, VOC12_MINI, needs_voc12_mini, run_tool


def _images(n=6):
    needs_voc12_mini()
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()[:n]
    return [(i, osp.join(VOC12_MINI, 'JPEGImages', i + '.jpg')) for i in ids]


def colour_features(image: np.ndarray) -> torch.Tensor:
    """A cheap real extractor for the tests: Lab colour averaged over 8x8
    cells, L2-normalised (what the generator sees from a network)."""
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32) - 128
    x = torch.from_numpy(lab).permute(2, 0, 1)[None]
    h, w = MultiScaleExtractor.output_size(*image.shape[:2])
    return F.normalize(F.adaptive_avg_pool2d(x, (h, w))[0], dim=0)


def test_vote_by_hand():
    labels = np.array([[0, 0, 1, 255],
                       [2, 1, 1, 255]], np.uint8)
    segments = np.array([[0, 0, 1, 2],
                         [0, 1, 1, 2]], np.int32)
    out = vote(labels, segments, num_labels=3)
    np.testing.assert_array_equal(out, [[0, 0, 1, 255], [0, 1, 1, 255]])


def test_multiscale_extractor_on_a_real_image():
    from mmssl_seg.utils.model import load_model
    image = cv2.imread(_images(1)[0][1])
    image = cv2.resize(image, (160, 120))
    model = load_model(MINI_DEEPLAB, None)
    extractor = MultiScaleExtractor(model, 'backbone', scales=(0.5, 1.0))
    feature = extractor(image)
    assert feature.shape == (2 * 512, 15, 20)  # two scales, 1/8 size
    torch.testing.assert_close(feature.norm(dim=0), torch.ones(15, 20))


@pytest.fixture(scope='module')
def labelled(tmp_path_factory):
    images = _images()
    out = str(tmp_path_factory.mktemp('aux') / 'all')
    gt = class_ground_truth(osp.join(VOC12_MINI, 'SegmentationClass'))
    result = make_aux_labels(images, out, colour_features, {'name': 'lab'},
                             k=5, superpixel_size=12, ground_truth=gt,
                             num_classes=21)
    return images, out, result, gt


def test_labels_superpixels_manifest_and_pmiou(labelled):
    images, out, result, _ = labelled
    assert sorted(result['entries']) == sorted(s for s, _ in images)
    assert result['params']['k'] == 5 and result['complete']
    fit = json.load(open(osp.join(out, 'centres.json')))
    assert len(fit['sample_images']) == len(images)
    dropped = []
    for stem, path in images:
        h, w = cv2.imread(path).shape[:2]
        labels = cv2.imread(osp.join(out, 'labels', stem + '.png'),
                            cv2.IMREAD_UNCHANGED)
        segments = cv2.imread(osp.join(out, 'superpixels', stem + '.png'),
                              cv2.IMREAD_UNCHANGED)
        assert labels.shape == segments.shape == (h, w)
        assert labels.dtype == np.uint8 and segments.dtype == np.uint16
        assert set(np.unique(labels)) <= set(range(5)) | {255}
        for s in np.unique(segments):  # one label per superpixel
            assert len(np.unique(labels[segments == s])) == 1
        dropped.append(result['entries'][stem]['dropped'])
    # the threshold drops 5 % of the sampled (here: all) pixels
    assert 0.03 < np.mean(dropped) < 0.07
    assert 0 < result['quality']['PmIoU'] < 100


def test_rerun_skips_and_other_parameters_are_refused(labelled):
    images, out, result, _ = labelled
    first = osp.join(out, 'labels', images[0][0] + '.png')
    stamp = os.stat(first).st_mtime_ns

    def exploding(image):
        raise AssertionError('a finished image was recomputed')

    again = make_aux_labels(images, out, exploding, {'name': 'lab'}, k=5,
                            superpixel_size=12)
    assert os.stat(first).st_mtime_ns == stamp
    assert again['entries'] == result['entries']
    with pytest.raises(ValueError, match='other parameters'):
        make_aux_labels(images, out, colour_features, {'name': 'lab'}, k=7)


def test_shards_after_one_fit_equal_labelling_at_once(labelled, tmp_path):
    images, out, _, _ = labelled
    sharded = str(tmp_path / 'sharded')
    with pytest.raises(FileNotFoundError, match='centres.npz'):
        make_aux_labels(images, sharded, colour_features, {'name': 'lab'},
                        k=5, superpixel_size=12, stage='label')
    make_aux_labels(images, sharded, colour_features, {'name': 'lab'}, k=5,
                    superpixel_size=12, stage='fit')
    for k in (1, 2):
        part = make_aux_labels(images, sharded, colour_features,
                               {'name': 'lab'}, k=5, superpixel_size=12,
                               stage='label', shard_spec=(k, 2))
    assert part['complete'] and len(part['entries']) == len(images)
    for stem, _ in images:
        for kind in ('labels', 'superpixels'):
            assert filecmp.cmp(osp.join(out, kind, stem + '.png'),
                               osp.join(sharded, kind, stem + '.png'),
                               shallow=False)


def test_sweep_k_reports_pmiou_per_k(labelled):
    images, _, _, gt = labelled
    rows = sweep_k(images[:3], colour_features, [2, 8], gt, 21,
                   superpixel_size=12)
    assert [r['K'] for r in rows] == [2, 8]
    assert all(0 < r['PmIoU'] < 100 for r in rows)


def test_cli_with_a_network_extractor_and_picture(tmp_path):
    images = _images(2)
    ids = tmp_path / 'ids.txt'
    ids.write_text('\n'.join(s for s, _ in images))
    out = str(tmp_path / 'out')
    proc = run_tool(sys.executable, 'tools/priors/make_aux_labels.py', out,
                    MINI_DEEPLAB, 'random', '--images',
                    osp.join(VOC12_MINI, 'JPEGImages'), '--ids', str(ids),
                    '--feature', 'decoder', '--scales', '0.5', '--k', '4',
                    '--gt-dir', osp.join(VOC12_MINI, 'SegmentationClass'),
                    '--picture', '2')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'PmIoU' in proc.stdout
    quality = json.load(open(osp.join(out, 'aux_label_quality.json')))
    assert quality['K'] == 4 and quality['images'] == 2
    picture = cv2.imread(osp.join(out, 'aux_labels.png'))
    assert picture is not None and picture.shape[1] > 2 * picture.shape[0]
