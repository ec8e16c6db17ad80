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

from mmssl_seg.datasets.ground_truth import ground_truth_reader
from mmssl_seg.priors.aux_labels import (
    MultiScaleExtractor,
    label_quality,
    make_aux_labels,
    sweep_k,
    vote,
)
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
    from mmssl_seg.checkpoint.loading import load_model
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
    gt = ground_truth_reader(osp.join(VOC12_MINI, 'SegmentationClass'))
    result = make_aux_labels(images, out, colour_features, {'name': 'lab'},
                             k=5, superpixel_size=12)
    result['quality'] = label_quality(result, out, gt, 21)
    return images, out, result, gt


def test_labels_superpixels_manifest_and_pmiou(labelled):
    images, out, result, _ = labelled
    assert sorted(result['entries']) == sorted(s for s, _ in images)
    assert result['params']['k'] == 5 and result['complete']
    fit = json.load(open(osp.join(out, 'centres.json')))
    assert len(fit['sample_images']) == len(images)
    assert fit['bounded'] is False and fit['per_image'] is None
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
    assert all(0 <= d < 1 for d in dropped) and max(dropped) > 0
    # the threshold is the distance beyond which 5 % of the fit sample
    # (here: every pixel at 1/8) lies, recomputed by brute force
    with np.load(osp.join(out, 'centres.npz')) as f:
        centres, threshold = f['centres'], float(f['threshold'])
    points = np.concatenate([colour_features(cv2.imread(p)).flatten(1).T
                             .numpy() for _, p in images]).astype(np.float64)
    dist = ((points[:, None] - centres[None]) ** 2).sum(-1).min(1)
    assert fit['points'] == len(points)
    assert threshold == pytest.approx(np.quantile(dist, 0.95), rel=1e-5)
    beyond = (dist > threshold * (1 + 1e-6)).mean()
    assert 0.05 - 2 / len(points) <= beyond <= 0.05
    assert result['quality']['PmIoU'] == pytest.approx(
        reference_pmiou(out, images, 5, 21))


def reference_pmiou(out: str, images, k: int, num_classes: int) -> float:
    """Eq. 3 written out: over all images, each label's best IoU with a
    class, summed and divided by max(K, M); void ground truth excluded,
    dropped labels (255) belong to no segment."""
    from PIL import Image
    labels, gts = [], []
    for stem, _ in images:
        labels.append(cv2.imread(osp.join(out, 'labels', stem + '.png'),
                                 cv2.IMREAD_UNCHANGED).ravel())
        gts.append(np.array(Image.open(osp.join(
            VOC12_MINI, 'SegmentationClass', stem + '.png'))).ravel())
    labels, gts = np.concatenate(labels), np.concatenate(gts)
    keep = gts != 255
    labels, gts = labels[keep], gts[keep]
    total = 0.0
    for j in range(k):
        best = 0.0
        for i in range(num_classes):
            s, g = labels == j, gts == i
            union = (s | g).sum()
            if union:
                best = max(best, (s & g).sum() / union)
        total += best
    return 100 * total / max(k, num_classes)


def test_fit_takes_every_pixel_unless_memory_bounds_it():
    from mmssl_seg.priors.aux_labels.generate import sample_points
    images = _images(3)
    every = sum(colour_features(cv2.imread(p)).shape[1:].numel()
                for _, p in images)
    points, info = sample_points(images, colour_features)
    assert len(points) == every and info['per_image'] is None
    assert not info['bounded'] and info['failed'] == {}
    for stem, path in images:  # each image whole, where it lies
        start, c, h, w = info['whole'][stem]
        feature = colour_features(cv2.imread(path))
        np.testing.assert_array_equal(
            points[start:start + h * w], feature.flatten(1).T.numpy())
    # room for 300 3-d points: 100 from each image
    points, info = sample_points(images, colour_features,
                                 fit_memory_gb=300 * 3 * 4 / 2**30)
    assert len(points) == 300 and info['per_image'] == 100
    assert info['bounded'] and info['whole'] == {}
    first = colour_features(cv2.imread(images[0][1])).flatten(1).T.numpy()
    rows = {tuple(r) for r in first}
    assert all(tuple(r) in rows for r in points[:100])  # image order kept


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
    """Labelling in the fit's process reuses its features; labelling in
    other processes computes them: the same files."""
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
    images, out, result, gt = labelled
    # every pixel is in the fit sample of both: the sweep's K=5 row is the
    # labelling the two-stage tool wrote
    rows = sweep_k(images, colour_features, [5, 8], gt, 21,
                   superpixel_size=12)
    assert [r['K'] for r in rows] == [5, 8]
    assert rows[0]['PmIoU'] == pytest.approx(result['quality']['PmIoU'])
    assert rows[0]['PmIoU'] == pytest.approx(reference_pmiou(out, images,
                                                             5, 21))
    assert rows[1]['PmIoU'] != rows[0]['PmIoU']


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
                    '--num-classes', '21', '--picture', '2')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'PmIoU' in proc.stdout
    quality = json.load(open(osp.join(out, 'aux_label_quality.json')))
    assert quality['K'] == 4 and quality['images'] == 2
    picture = cv2.imread(osp.join(out, 'aux_labels.png'))
    assert picture is not None and picture.shape[1] > 2 * picture.shape[0]


def test_cli_refuses_a_rerun_on_other_weights_at_the_same_path(tmp_path):
    """The extractor is recorded by its weights' sha256, not only its path:
    labels of a retrained checkpoint are never mixed with the old ones."""
    from mmssl_seg.models.builder import build_model
    images = _images(1)
    ids = tmp_path / 'ids.txt'
    ids.write_text(images[0][0])
    out, weights = str(tmp_path / 'out'), str(tmp_path / 'extractor.pth')
    state = build_model(MINI_DEEPLAB).state_dict()

    def run(scale: float):
        torch.save({'state_dict': {k: v * scale if v.is_floating_point()
                                   else v for k, v in state.items()}},
                   weights)
        return run_tool(sys.executable, 'tools/priors/make_aux_labels.py',
                        out, MINI_DEEPLAB, weights, '--images',
                        osp.join(VOC12_MINI, 'JPEGImages'), '--ids', str(ids),
                        '--feature', 'decoder', '--scales', '0.5', '--k', '4',
                        '--picture', '0')

    first = run(1.0)
    assert first.returncode == 0, first.stdout[-3000:]
    second = run(0.5)
    assert second.returncode != 0
    assert 'other parameters' in second.stdout, second.stdout[-3000:]
    assert 'weights_sha256' in second.stdout


def test_the_readme_makes_the_labels_each_paper_config_expects():
    """configs/aux_contrast/README.md's commands, as typed, against the
    paper (sec. 4): K = 1.5 M for the M classes of the target data, the
    ResNet extractor's scales (1, 2, 4; 0.5, 1, 2 for Cityscapes), and
    against the labels each paper config declares (`aux_label_prior`)."""
    import glob

    from mmengine.config import Config

    from tests.conftest import REPO, readme_commands
    paper = {'nyuv2': (40, (1.0, 2.0, 4.0)),
             'cityscapes': (19, (0.5, 1.0, 2.0)),
             'ade20k': (150, (1.0, 2.0, 4.0))}
    commands = readme_commands(osp.join(REPO, 'configs/aux_contrast',
                                        'README.md'),
                               'tools/priors/make_aux_labels.py')
    by_data = {}
    for argv in commands:
        options = {}
        key = None
        for word in argv[3:]:
            if word.startswith('--'):
                key = word
                options[key] = []
            else:
                options[key].append(word)
        by_data[options['--data'][0]] = options
    configs = sorted(glob.glob(osp.join(
        REPO, 'configs/aux_contrast/aux-contrast_*_8xb16-20e_*.py')))
    assert len(configs) == 4
    for path in configs:
        cfg = Config.fromfile(path)
        data = next(d for d in paper if f'_{d}-' in path)
        m, scales = paper[data]
        prior = cfg.aux_label_prior
        assert (prior.num_classes, prior.k, tuple(prior.scales)) == (
            m, round(1.5 * m), scales), path
        command = next(o for d, o in by_data.items() if f'_{data}-' in d)
        assert int(command['--num-classes'][0]) == prior.num_classes
        assert '--k' not in command
        assert tuple(float(x) for x in command['--scales']) == scales
        assert command['--feature'] == ['backbone']
