"""The evaluation protocols end to end.

Planted cases: flat-colour images whose colour identifies the class, and a
stub model whose "embedding" is the pixel colour; every protocol must then be
perfect, which checks the wiring (features, resizing, mappings, retrieval).
Real cases: a random-init model on voc12_mini / DAVIS, each protocol against
a reference written out here (features from the model's parts, brute-force
distances, IoU by hand).
"""
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import DATASETS
from mmseg.structures import SegDataSample

from mmssl_seg.checkpoint.loading import load_model
from mmssl_seg.datasets.builder import build_eval_dataset
from mmssl_seg.evaluation.metrics import SegmentIoUMetric
from mmssl_seg.evaluation.protocols.clustering import (
    SaliencyMasks,
    object_kmeans,
    pixel_kmeans,
)
from mmssl_seg.evaluation.protocols.linear_probe import encoder_config
from mmssl_seg.evaluation.protocols.pmiou import pmiou_of_folder
from mmssl_seg.evaluation.protocols.propagation import propagate_davis
from mmssl_seg.evaluation.protocols.retrieval import segment_retrieval
from mmssl_seg.models.builder import dense_features
from tests.conftest import (
    DATA_ROOT,
    MINI_DEEPLAB,
    REPO,
    VOC12_MINI,
    needs_voc12_mini,
    quick_options,
    run_tool,
)

init_default_scope('mmseg')
COLORS = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200],
                   [200, 200, 30], [30, 200, 200], [200, 30, 200]], np.uint8)


class ColourModel(torch.nn.Module):
    """Stub: the dense 'embedding' is the image colour, pooled by 4."""

    def __init__(self):
        super().__init__()
        from mmseg.models import SegDataPreProcessor
        self.data_preprocessor = SegDataPreProcessor(bgr_to_rgb=False)

    def dense_features(self, inputs, kind, in_index=-1):
        if kind != 'embedding':
            raise ValueError(f'unknown feature kind {kind}')
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
    # "salient object": the right part, one distinct class per val image;
    # K = 6 gives every object its own cluster, the left parts share the
    # background id, which the majority mapping gives their commonest class
    labels = []
    for i in range(len(planted['val'])):
        info = planted['val'].get_data_info(i)
        label = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
        mask = (label != label[:, :1]).astype(np.uint8) * 255
        cv2.imwrite(str(tmp_path / osp.basename(info['img_path'])), mask)
        labels.append(label)
    result = object_kmeans(ColourModel(), planted['val'], 6,
                           SaliencyMasks(str(tmp_path)), ks=(6, ),
                           seeds=(0, ), kind='embedding')
    assert result['objects'] == len(planted['val'])
    assert result['K']['6']['mapping'] == 'majority'
    left = np.concatenate([lab[lab == lab[:, :1]] for lab in labels])
    background = np.bincount(left, minlength=6).argmax()
    preds = [np.where(lab != lab[:, :1], lab, background) for lab in labels]
    expected = _miou(np.concatenate([p.ravel() for p in preds]),
                     np.concatenate([lab.ravel() for lab in labels]), 6)
    assert 0 < expected < 100
    assert result['K']['6']['mIoU']['mean'] == pytest.approx(expected)
    # more clusters than objects: that K is named as not run, not dropped
    n = len(planted['val'])
    more = object_kmeans(ColourModel(), planted['val'], 6,
                         SaliencyMasks(str(tmp_path)), ks=(6, n + 1),
                         seeds=(0, ), kind='embedding')
    assert list(more['K']) == ['6']
    assert more['skipped_K'] == {n + 1: f'only {n} salient objects'}


class ColourSaliencyModel(ColourModel):
    """Stub with a saliency head: its logit is 8 x (the share of the pooled
    4x4 cell whose colour differs from the image's first column, the
    planted right part, minus 0.5)."""

    def dense_features(self, inputs, kind, in_index=-1):
        if kind == 'saliency_logit':
            differs = (inputs != inputs[..., :1]).any(1, keepdim=True)
            return (F.avg_pool2d(differs.float(), 4) - 0.5) * 8
        return super().dense_features(inputs, kind)


def test_object_kmeans_with_the_models_saliency_head(planted, tmp_path):
    """The head's masks (the logit upsampled bilinearly to the input, > 0.5
    as the authors' code thresholds it) give the same clustering as files
    holding those masks."""
    from mmssl_seg.evaluation.protocols.clustering import HeadSaliency
    model = ColourSaliencyModel()
    for i in range(len(planted['val'])):
        item = planted['val'][i]
        x = item['inputs'].float()[None]
        logit = F.interpolate(model.dense_features(x, 'saliency_logit'),
                              size=x.shape[2:], mode='bilinear',
                              align_corners=False)[0, 0]
        name = osp.basename(planted['val'].get_data_info(i)['img_path'])
        cv2.imwrite(str(tmp_path / name),
                    (logit > 0.5).numpy().astype(np.uint8) * 255)
    head = object_kmeans(model, planted['val'], 6, HeadSaliency(model),
                         ks=(6, ), seeds=(0, ), kind='embedding')
    files = object_kmeans(model, planted['val'], 6,
                          SaliencyMasks(str(tmp_path)), ks=(6, ), seeds=(0, ),
                          kind='embedding')
    assert head['objects'] == len(planted['val'])
    assert head['K'] == files['K']
    with pytest.raises(ValueError, match='no saliency head'):
        HeadSaliency(ColourModel())


def _reference_object_kmeans(model, dataset, k: int, seed: int,
                             rule: str) -> float:
    """Object-level K-means written out from its two definitions, full
    maps at the input resolution, the object pixels by a loop: the paper's
    (supplement E: mean of the L2-normalised pixel embeddings, normalised,
    K-means) and the authors' kmeans_utils.py (the un-normalised embedding
    summed with weight logit * (logit > 0.5), normalised, PCA(32, whiten),
    MiniBatchKMeans(batch_size=1000, random_state=seed)); the object is
    where logit > 0.5; Hungarian matching of K + 1 ids to the classes."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import PCA

    from mmssl_seg.evaluation.functional import (
        confusion_matrix,
        hungarian_mapping,
        mapped_miou,
    )
    from mmssl_seg.utils.kmeans import assign, fit_kmeans
    vectors, masks, gts = [], [], []
    for i in range(len(dataset)):
        item = dataset[i]
        x = item['inputs'].float()[None]
        size = x.shape[2:]
        emb = F.interpolate(model.dense_features(x, 'embedding'), size=size,
                            mode='bilinear', align_corners=False)[0]
        logit = F.interpolate(model.dense_features(x, 'saliency_logit'),
                              size=size, mode='bilinear',
                              align_corners=False)[0, 0]
        mask = logit > 0.5
        total = torch.zeros(emb.shape[0], dtype=torch.float64)
        count = 0
        for y, x_ in zip(*torch.nonzero(mask, as_tuple=True)):
            e = emb[:, y, x_].double()
            if rule == 'paper':
                total += e / e.norm()
                count += 1
            else:
                total += e * float(logit[y, x_])
        mean = total / max(count, 1)  # the paper's mean (sum: the code's)
        vectors.append(mean / mean.norm())
        masks.append(mask.numpy())
        gts.append(item['data_samples'].gt_sem_seg.data[0].numpy())
    points = torch.stack(vectors).float().numpy()
    if rule == 'paper':
        ids = assign(torch.from_numpy(points),
                     fit_kmeans(points, k, seed=seed)).numpy()
    else:
        ids = MiniBatchKMeans(n_clusters=k, batch_size=1000,
                              random_state=seed).fit_predict(
            PCA(n_components=min(32, *points.shape),
                whiten=True).fit_transform(points))
    confusion = 0
    for cluster, mask, gt in zip(ids, masks, gts):
        pred = np.where(mask, cluster, k)
        confusion = confusion + confusion_matrix(pred, gt.astype(np.int64),
                                                 k + 1, 6, 255)
    return mapped_miou(confusion, hungarian_mapping(confusion))[0]


@pytest.mark.parametrize('rule', ['paper', 'official'])
def test_object_kmeans_rules_equal_their_definitions(planted, rule):
    from mmssl_seg.evaluation.protocols.clustering import HeadSaliency
    model = ColourSaliencyModel()
    for seed in (0, 1):
        result = object_kmeans(model, planted['val'], 6, HeadSaliency(model),
                               ks=(5, ), seeds=(seed, ), kind='embedding',
                               rule=rule)
        assert result['rule'] == rule
        assert result['K']['5']['mIoU']['mean'] == pytest.approx(
            _reference_object_kmeans(model, planted['val'], 5, seed, rule),
            abs=1e-6)


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


def _features(model, item, kind: str) -> np.ndarray:
    """Unit ``C x h x w`` features of one dataset item, computed here from
    the model's parts (not through the protocols' feature code)."""
    pre = model.data_preprocessor
    x = item['inputs'].float()[[2, 1, 0]][None]  # BGR -> RGB
    x = (x - pre.mean.view(1, -1, 1, 1)) / pre.std.view(1, -1, 1, 1)
    with torch.no_grad():
        feats = model.backbone(x)
        out = feats[-1] if kind == 'backbone' else \
            model.decode_head._forward_feature(feats)
    out = out[0].double().numpy()
    return out / np.linalg.norm(out, axis=0, keepdims=True).clip(1e-12)


def _nearest(ids: np.ndarray, shape) -> np.ndarray:
    """Nearest-neighbour upsampling as F.interpolate(mode='nearest')."""
    ys = np.floor(np.arange(shape[0]) * ids.shape[0] / shape[0]).astype(int)
    xs = np.floor(np.arange(shape[1]) * ids.shape[1] / shape[1]).astype(int)
    return ids[ys][:, xs]


def _miou(pred: np.ndarray, gt: np.ndarray, num_classes: int) -> float:
    """mIoU by hand: classes absent from prediction and ground truth are
    left out; void pixels are not scored."""
    valid = gt != 255
    ious = []
    for c in range(num_classes):
        p, g = (pred == c) & valid, (gt == c) & valid
        union = (p | g).sum()
        if union:
            ious.append((p & g).sum() / union)
    return 100 * float(np.mean(ious))


def test_real_pixel_kmeans_against_a_hand_reference(random_model, voc,
                                                    monkeypatch):
    from scipy.optimize import linear_sum_assignment

    from mmssl_seg.evaluation.protocols import clustering
    fitted = {}
    real_fit = clustering.fit_kmeans

    def spy(points, k, seed=0, **kwargs):
        fitted[(k, seed)] = real_fit(points, k, seed=seed, **kwargs)
        return fitted[(k, seed)]

    monkeypatch.setattr(clustering, 'fit_kmeans', spy)
    result = pixel_kmeans(random_model, voc['val'], 21, ks=(21, ),
                          seeds=(0, 1), kind='decoder')
    per_seed = []
    for seed in (0, 1):
        centres = fitted[(21, seed)].astype(np.float64)
        preds, gts = [], []
        for i in range(len(voc['val'])):
            item = voc['val'][i]
            feats = _features(random_model, item, 'decoder')
            points = feats.reshape(len(feats), -1).T
            dist = ((points[:, None] - centres[None]) ** 2).sum(-1)
            ids = dist.argmin(1).reshape(feats.shape[1:])
            gt = item['data_samples'].gt_sem_seg.data[0].numpy()
            preds.append(_nearest(ids, gt.shape).ravel())
            gts.append(gt.ravel())
        pred, gt = np.concatenate(preds), np.concatenate(gts)
        counts = np.zeros((21, 21))
        valid = gt != 255
        np.add.at(counts, (pred[valid], gt[valid]), 1)
        rows, cols = linear_sum_assignment(counts, maximize=True)
        mapped = np.full(21, -1)
        mapped[rows] = cols
        per_seed.append(_miou(mapped[pred], gt, 21))
    # float32 (protocol) vs float64 (here) flips a few pixels that lie
    # almost equidistant from two centroids: 0.01 mIoU points at most
    assert result['K']['21']['mIoU']['runs'] == pytest.approx(per_seed,
                                                              abs=0.02)
    assert result['K']['21']['mIoU']['mean'] == pytest.approx(
        np.mean(per_seed), abs=0.02)


def test_real_retrieval_against_a_hand_reference(random_model, voc,
                                                 tmp_path):
    """Salient object / background segments (the ground-truth foreground
    as the mask), described, retrieved and painted by hand."""
    for split in ('train', 'val'):
        for i in range(len(voc[split])):
            info = voc[split].get_data_info(i)
            from PIL import Image
            gt = np.array(Image.open(info['seg_map_path']))
            cv2.imwrite(str(tmp_path / (osp.basename(info['img_path'])[:-4]
                                        + '.png')),
                        ((gt > 0) & (gt < 255)).astype(np.uint8) * 255)
    result = segment_retrieval(random_model, voc['train'], voc['val'], 21,
                               saliency=SaliencyMasks(str(tmp_path)),
                               kind='backbone')

    def segments(split, i):
        item = voc[split][i]
        feats = _features(random_model, item, 'backbone')
        gt = item['data_samples'].gt_sem_seg.data[0].numpy()
        mask = ((gt > 0) & (gt < 255)).astype(np.float32)
        small = F.interpolate(torch.from_numpy(mask)[None, None],
                              size=feats.shape[1:], mode='area')[0, 0]
        seg = (small >= 0.5).long().numpy()
        out = []
        for s in np.unique(seg):
            mean = feats[:, seg == s].mean(1)
            out.append((s, mean / np.linalg.norm(mean)))
        return out, _nearest(seg, gt.shape), gt

    bank, labels = [], []
    for i in range(len(voc['train'])):
        descs, seg, gt = segments('train', i)
        for s, d in descs:
            pixels = gt[(seg == s) & (gt != 255)]
            if pixels.size:
                bank.append(d)
                labels.append(np.bincount(pixels).argmax())
    bank = np.stack(bank)
    preds, gts = [], []
    for i in range(len(voc['val'])):
        descs, seg, gt = segments('val', i)
        painted = np.zeros_like(seg)
        for s, d in descs:
            painted[seg == s] = labels[int(np.argmax(bank @ d))]
        preds.append(painted.ravel())
        gts.append(gt.ravel())
    assert result['bank_segments'] == len(bank)
    # float32 (protocol) vs float64 (here) can flip a near-tied neighbour
    # of a tiny segment: a few pixels, far below 0.01 mIoU points
    assert result['mIoU'] == pytest.approx(
        _miou(np.concatenate(preds), np.concatenate(gts), 21), abs=0.01)


def test_real_davis_propagation_against_a_brute_force_reference(
        random_model):
    """Eq. of sec. 5.3 by brute force (all distances in numpy, no faiss) on
    5 real frames; J and F of the same predictions."""
    from mmssl_seg.evaluation.functional import (
        boundary_f_measure,
        region_similarity,
    )
    from mmssl_seg.evaluation.protocols.propagation import read_mask
    davis = osp.join(DATA_ROOT, 'davis2016')
    if not osp.isdir(davis):
        pytest.skip(f'real data not found: {davis}')
    result = propagate_davis(random_model, davis, ['blackswan'],
                             max_frames=5, kind='backbone')
    import glob
    frames = sorted(glob.glob(osp.join(davis, 'JPEGImages', '480p',
                                       'blackswan', '*.jpg')))[:5]
    masks = [read_mask(f.replace('JPEGImages', 'Annotations')[:-4] + '.png')
             for f in frames]
    feats, coords, labels, preds = [], [], [], []
    for t, path in enumerate(frames):
        frame = cv2.imread(path)
        small = cv2.resize(frame, None, fx=0.5, fy=0.5,
                           interpolation=cv2.INTER_LINEAR)
        item = {'inputs': torch.from_numpy(small.transpose(2, 0, 1).copy())}
        f = _features(random_model, item, 'backbone')
        c, h, w = f.shape
        ys, xs = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w),
                             indexing='ij')
        feats.append(f.reshape(c, -1).T)
        coords.append(np.concatenate([feats[-1], np.stack(
            [ys.ravel(), xs.ravel()], 1)], 1))
        if t == 0:
            onehot = np.eye(2)[masks[0]].transpose(2, 0, 1)
            labels.append(F.interpolate(torch.from_numpy(onehot)[None],
                                        size=(h, w), mode='area')[0]
                          .reshape(2, -1).T.numpy())
            continue
        bank = np.concatenate(coords[max(0, t - 2):t])
        bank_f = np.concatenate(feats[max(0, t - 2):t])
        bank_y = np.concatenate(labels[max(0, t - 2):t])
        d = (coords[t] ** 2).sum(1)[:, None] + (bank ** 2).sum(1)[None] - \
            2 * coords[t] @ bank.T  # every squared distance
        near = np.argsort(d, axis=1, kind='stable')[:, :10]
        sims = np.clip((feats[t][:, None] * bank_f[near]).sum(-1), 0, None)
        total = sims.sum(1, keepdims=True)
        weights = np.where(total > 0, sims / np.where(total > 0, total, 1),
                           0.1)
        soft = (weights[..., None] * bank_y[near]).sum(1)
        labels.append(soft)
        full = F.interpolate(torch.from_numpy(soft.T.reshape(1, 2, h, w)),
                             size=frame.shape[:2], mode='bilinear',
                             align_corners=False)[0]
        preds.append(full.argmax(0).numpy())
    j = np.mean([region_similarity(p == 1, g == 1)
                 for p, g in zip(preds[:-1], masks[1:-1])])
    f = np.mean([boundary_f_measure(p == 1, g == 1)
                 for p, g in zip(preds[:-1], masks[1:-1])])
    # faiss (float32, its own distance formula) and this float32 numpy sum
    # can order near-tied 10th neighbours differently: a few pixels
    assert result['J'] == pytest.approx(100 * j, abs=0.05)
    assert result['F'] == pytest.approx(100 * f, abs=0.05)
    # the object moves little over 5 frames: even random features, through
    # the spatial term, keep most of it
    assert result['J'] > 30


def _duo_sequence(root: str) -> list[np.ndarray]:
    """A DAVIS-2017 sequence made from DAVIS 2016 (half resolution, 6
    frames): blackswan's frames, palette annotations with object 1 the swan
    and object 2 scooter-black's rider drawn over it, the swan gone from
    frame 3 and back in frame 4, a void (255) patch in frame 2. Returns the
    object ids by hand (void as background, as the official code reads
    it)."""
    import glob

    from PIL import Image
    davis = osp.join(DATA_ROOT, 'davis2016')
    if not osp.isdir(davis):
        pytest.skip(f'real data not found: {davis}')
    frames = sorted(glob.glob(osp.join(davis, 'JPEGImages', '480p',
                                       'blackswan', '*.jpg')))[:6]
    image_dir = osp.join(root, 'JPEGImages', '480p', 'duo')
    mask_dir = osp.join(root, 'Annotations', '480p', 'duo')
    for folder in (image_dir, mask_dir):
        os.makedirs(folder)
    palette = [0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (3 * 252) + [
        255, 255, 255]
    ids = []
    for t, frame in enumerate(frames):
        name = osp.basename(frame)[:-4]
        cv2.imwrite(osp.join(image_dir, name + '.jpg'),
                    cv2.imread(frame)[::2, ::2])
        swan = cv2.imread(frame.replace('JPEGImages', 'Annotations')[:-4] +
                          '.png', 0)[::2, ::2] > 128
        rider = cv2.imread(osp.join(davis, 'Annotations', '480p',
                                    'scooter-black', name + '.png'),
                           0)[::2, ::2] > 128
        obj = np.zeros(swan.shape, np.uint8)
        if t != 3:
            obj[swan] = 1
        obj[rider] = 2
        stored = obj.copy()
        if t == 2:
            stored[:20, :30] = 255
            obj[:20, :30] = 0
        image = Image.fromarray(stored, mode='P')
        image.putpalette(palette)
        image.save(osp.join(mask_dir, name + '.png'))
        ids.append(obj.astype(np.int64))
    return ids


def test_davis2017_multi_object_scoring_is_the_official_one(random_model,
                                                           tmp_path):
    """Palette indices are object ids (never re-ranked per frame), void
    counts as background, every object of the first frame is scored in
    every frame but the first and the last (J = F = 1 where it is absent
    and not predicted), and the sequence's J and F average its objects:
    the official davis2017-evaluation definitions, written out here with
    the pixel-by-pixel seg2bmap reference."""
    from mmssl_seg.evaluation.protocols.propagation import (
        propagate_sequence,
        read_mask,
    )
    from tests.test_eval_functional import reference_f
    root = str(tmp_path / 'davis2017')
    ids = _duo_sequence(root)
    masks = sorted(glob_paths(osp.join(root, 'Annotations', '480p', 'duo')))
    for path, by_hand in zip(masks, ids):
        np.testing.assert_array_equal(read_mask(path), by_hand)
    assert (ids[3] == 2).any() and not (ids[3] == 1).any()
    result = propagate_davis(random_model, root, ['duo'], kind='backbone')
    frames = sorted(glob_paths(osp.join(root, 'JPEGImages', '480p', 'duo')))
    preds = propagate_sequence(random_model, frames, ids[0],
                               kind='backbone')
    objects = result['sequences']['duo']['objects']
    assert sorted(objects) == [1, 2] and result['objects'] == 2
    for obj in (1, 2):
        j, f = [], []
        for pred, gt in zip(preds[:-1], ids[1:-1]):
            p, g = pred == obj, gt == obj
            union = (p | g).sum()
            j.append(1.0 if union == 0 else (p & g).sum() / union)
            f.append(reference_f(p, g))
        assert objects[obj]['J'] == pytest.approx(np.mean(j), abs=1e-6)
        assert objects[obj]['F'] == pytest.approx(np.mean(f), abs=1e-6)
    assert result['J'] == pytest.approx(
        50 * (objects[1]['J'] + objects[2]['J']), abs=1e-6)


def glob_paths(folder: str) -> list[str]:
    import glob
    return glob.glob(osp.join(folder, '*'))


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
    assert report['config'] == MINI_DEEPLAB and report['feature'] == 'decoder'
    assert report['checkpoint'] == 'random' and report['seeds'] == [0, 1]
    table = open(osp.join(out, 'kmeans_pixel.md')).read().splitlines()
    assert table[0].startswith('| config | checkpoint | feature | level')
    assert 'wall time' in table[0] and '0 1' in table[2]
    # a second run into the same folder does not replace the first
    stamp = osp.getmtime(osp.join(out, 'kmeans_pixel.json'))
    again = _tool('tools/eval/kmeans.py', MINI_DEEPLAB, 'random', '--feature',
                  'decoder', '--limit', '4', '--seeds', '0', '--out-dir', out)
    assert again.returncode != 0 and '--overwrite' in again.stdout
    assert osp.getmtime(osp.join(out, 'kmeans_pixel.json')) == stamp
    # random init is one seeded draw: another process gives the same
    # numbers, another --init-seed other ones
    assert report['init_seed'] == 0
    runs = []
    for seed in ('0', '1'):
        again = _tool('tools/eval/kmeans.py', MINI_DEEPLAB, 'random',
                      '--feature', 'decoder', '--limit', '4', '--seeds', '0',
                      '1', '--init-seed', seed, '--out-dir', out,
                      '--overwrite')
        assert again.returncode == 0, again.stdout[-3000:]
        runs.append(json.load(open(osp.join(out, 'kmeans_pixel.json'))))
    assert runs[0]['K'] == report['K']
    assert runs[1]['init_seed'] == 1 and runs[1]['K'] != report['K']


def test_cli_object_kmeans_defaults_to_the_saliency_head(tmp_path):
    needs_voc12_mini()
    config = osp.join(REPO, 'configs/mask_contrast/'
                      'mask-contrast_r18-d8_1xb16-500_voc12mini-96x96.py')
    result = _tool('tools/eval/kmeans.py', config, 'random', '--level',
                   'object', '--feature', 'embedding', '--limit', '4',
                   '--ks', '2', '--seeds', '0', '--out-dir', str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.load(open(tmp_path / 'kmeans_object.json'))
    assert report['saliency'] == 'head' and report['images'] == 4
    result = _tool('tools/eval/kmeans.py', MINI_DEEPLAB, 'random', '--level',
                   'object', '--limit', '2', '--out-dir',
                   str(tmp_path / 'deeplab'))
    assert result.returncode != 0 and 'no saliency head' in result.stdout


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
    assert report['feature'] == 'decoder'
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
    # the reported val score is the chosen probe's on the first 6 val images
    from mmssl_seg.checkpoint.io import read_checkpoint, state_dict_of
    from mmssl_seg.datasets.builder import build_eval_dataset
    from mmssl_seg.evaluation.segmentors import LinearProbe
    probe = LinearProbe(encoder=encoder_config(MINI_DEEPLAB),
                        checkpoint=None, feature=report['feature'],
                        in_channels=128, num_classes=21)
    probe.load_state_dict(state_dict_of(read_checkpoint(
        osp.join(REPO, chosen['checkpoint']) if not osp.isabs(
            chosen['checkpoint']) else chosen['checkpoint'])), strict=False)
    probe.eval()
    val = build_eval_dataset(osp.join(REPO, 'configs/_base_/datasets/'
                                      'voc12_mini.py'), 'val', indices=6)
    preds, gts = [], []
    for i in range(len(val)):
        item = val[i]
        pre = random_model_preprocess(item['inputs'])
        with torch.no_grad():
            encoder = probe.encoder  # the decoder feature (tool default)
            logits = probe.classifier(encoder.decode_head._forward_feature(
                encoder.backbone(pre)))
            logits = F.interpolate(logits, size=pre.shape[2:],
                                   mode='bilinear', align_corners=False)
            gt = item['data_samples'].gt_sem_seg.data[0].numpy()
            logits = F.interpolate(logits, size=gt.shape, mode='bilinear',
                                   align_corners=False)
        preds.append(logits[0].argmax(0).numpy().ravel())
        gts.append(gt.ravel())
    expected = _miou(np.concatenate(preds), np.concatenate(gts), 21)
    # MMSeg's IoUMetric reports 2 decimals
    assert report['val_mIoU'] == pytest.approx(round(expected, 2), abs=1e-4)
    # the same probe folder with another schedule is refused, not reused
    options[0] = 'train_cfg.max_epochs=2'
    result = _tool('tools/eval/linear_probe.py', MINI_DEEPLAB, 'random',
                   '--lrs', '0.1', '0.01', '--heldout', '0.05', '--work-dir',
                   str(tmp_path / 'probe'), '--out-dir',
                   str(tmp_path / 'again'), '--cfg-options', *options)
    assert result.returncode != 0
    assert 'holds a probe trained with other settings' in result.stdout


def random_model_preprocess(image: torch.Tensor) -> torch.Tensor:
    """The probe's normalisation (BGR -> RGB, ImageNet mean and std)."""
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    return (image.float()[[2, 1, 0]][None] - mean) / std


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


def test_label_fraction_reruns_when_the_checkpoint_changes(tmp_path):
    """A run is keyed on the weights, not their path or file: the benchmark
    retrains a checkpoint in place, and the old fine-tuning must not be
    reused for it; the same weights extracted again are reused."""
    needs_voc12_mini()
    import hashlib

    from mmssl_seg.checkpoint.io import save_tensors_only
    from mmssl_seg.evaluation.protocols.label_fraction import (
        run_label_fractions,
    )
    from mmssl_seg.models.builder import build_model
    model = build_model(osp.join(REPO, MINI_DEEPLAB))
    path = str(tmp_path / 'backbone.pth')
    options = {'train_dataloader.batch_size': 2,
               'train_dataloader.num_workers': 0,
               'train_dataloader.persistent_workers': False,
               'test_dataloader.num_workers': 0,
               'test_dataloader.persistent_workers': False,
               'test_dataloader.dataset.indices': 2}

    def save(scale: float, created: str) -> str:
        save_tensors_only({k: v * scale for k, v in model.state_dict().items()
                           if k.startswith('backbone.')}, path,
                          {'created': created})
        return hashlib.sha256(open(path, 'rb').read()).hexdigest()

    def run() -> dict:
        result = run_label_fractions(MINI_DEEPLAB, path, str(tmp_path / 'lf'),
                                     (10, ), (0, ), cfg_options=options,
                                     max_iters=1)
        return next(iter(result['runs'].values()))

    first_file = save(1.0, 'first')
    first = run()
    done = tmp_path / 'lf' / 'train_10pct_seed0' / 'result.json'
    stamp = done.stat().st_mtime_ns
    # the same weights in another file (its meta differs): reused
    assert save(1.0, 'again') != first_file
    assert run() == first and done.stat().st_mtime_ns == stamp
    save(0.5, 'retrained')  # other weights at the same path: run again
    second = run()
    assert done.stat().st_mtime_ns != stamp
    assert second['settings']['weights_sha256'] != first['settings'][
        'weights_sha256']


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


# --------------------------------------------------------------------------- #
# weights that do not fit are refused by every protocol and feature
# --------------------------------------------------------------------------- #
@pytest.fixture(scope='module')
def foreign_checkpoints(tmp_path_factory):
    """A MaskContrast checkpoint, a VGG16 M&M checkpoint and an empty one."""
    from mmssl_seg.models.builder import build_model
    root = tmp_path_factory.mktemp('foreign')
    paths = {}
    for name, config in (('mask_contrast', 'configs/mask_contrast/'
                          'mask-contrast_'
                          'r18-d8_1xb16-500_voc12mini-96x96.py'),
                         ('mix_match', 'configs/mix_match/'
                          'mix-match_vgg16-bn_1xb4-200_voc12mini-128x128.py')):
        model = build_model(osp.join(REPO, config))
        paths[name] = str(root / f'{name}.pth')
        torch.save({'state_dict': model.state_dict()}, paths[name])
    paths['empty'] = str(root / 'empty.pth')
    torch.save({'state_dict': {}}, paths['empty'])
    return paths


HIER = 'configs/hier_grouping/hier-grouping_r18_1xb16-400_voc12mini-112x112.py'
MASKC = ('configs/mask_contrast/'
         'mask-contrast_r18-d8_1xb16-500_voc12mini-96x96.py')


@pytest.mark.parametrize('feature', ['embedding', 'decoder', 'backbone'])
def test_loader_refuses_weights_that_leave_features_random(
        foreign_checkpoints, feature):
    from mmssl_seg.checkpoint.loading import IncompleteWeightsError
    from mmssl_seg.checkpoint.loading import load_model as load
    for checkpoint in (foreign_checkpoints['mask_contrast'],
                       foreign_checkpoints['empty']):
        with pytest.raises(IncompleteWeightsError, match='random init'):
            load(osp.join(REPO, HIER), checkpoint, kind=feature)
    if feature != 'decoder':
        with pytest.raises(IncompleteWeightsError):
            load(osp.join(REPO, MASKC), foreign_checkpoints['mix_match'],
                 kind=feature)
    # the right checkpoint loads, and the loaded weights are the file's
    model = load(osp.join(REPO, MASKC), foreign_checkpoints['mask_contrast'],
                 kind=feature)
    saved = torch.load(foreign_checkpoints['mask_contrast'])['state_dict']
    torch.testing.assert_close(model.decode_head.conv_seg.weight,
                               saved['decode_head.conv_seg.weight'])


@pytest.mark.parametrize('tool,extra', [
    ('kmeans.py', ['--level', 'pixel']),
    ('kmeans.py', ['--level', 'object']),
    ('retrieval.py', []),
    ('propagate_davis.py', []),
    ('visualize_embeddings.py', []),
    ('linear_probe.py', []),
])
def test_every_protocol_refuses_an_empty_checkpoint(foreign_checkpoints,
                                                    tmp_path, tool, extra):
    needs_voc12_mini()
    result = _tool(f'tools/eval/{tool}', osp.join(REPO, MASKC),
                   foreign_checkpoints['empty'], '--feature', 'embedding'
                   if tool != 'linear_probe.py' else 'decoder', *extra,
                   '--out-dir', str(tmp_path))
    assert result.returncode != 0
    assert 'at random init' in result.stdout, result.stdout[-2000:]
    assert not list(tmp_path.glob('*.json'))


def test_results_record_the_checkpoint_by_hash(foreign_checkpoints):
    import argparse
    import hashlib

    from mmssl_seg.evaluation.cli import provenance
    path = foreign_checkpoints['mask_contrast']
    args = argparse.Namespace(config=MASKC, checkpoint=path,
                              feature='embedding', in_index=-1,
                              allow_missing=[])
    record = provenance(args)
    assert record['checkpoint'] == path and record['config'] == MASKC
    assert record['checkpoint_sha256'] == hashlib.sha256(
        open(path, 'rb').read()).hexdigest()
