"""Mix-and-Match tuning: the class-wise connected graph and the patch
sampler against the authors' rules written out independently (node by node,
candidate by candidate), the triplet loss against a hand-written reference,
degenerate batches, resuming, the hypercolumn head and the hand-off."""
from __future__ import annotations

import os.path as osp
import sys
from collections import deque

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from PIL import Image

from mmssl_seg.models.builder import build_model
from mmssl_seg.models.losses import TripletRankingLoss
from mmssl_seg.models.utils import (
    PatchSampler,
    class_connected_triplets,
    random_triplets,
)
from tests.conftest import REPO, VOC12_MINI, needs_voc12_mini

MM_MINI = osp.join(
    REPO, 'configs/mix_match/mix-match_vgg16-bn_1xb4-200_voc12mini-128x128.py')
HC_MINI = osp.join(REPO, 'configs/mix_match/'
    'hypercolumn_vgg16-bn_1xb8-200_voc12mini-128x128.py')


def _label_sets(seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(labels, valid) pairs."""
    g = torch.Generator().manual_seed(seed)
    some_void = torch.rand(40, generator=g) > 0.2
    return [
        (torch.randint(0, 5, (160, ), generator=g), None),  # paper 16 x 10
        (torch.randint(0, 21, (30, ), generator=g), None),  # many unique
        (torch.tensor([3, 3, 3, 7]), None),  # one node alone in its class
        (torch.tensor([0, 1]), None),
        (torch.randint(0, 3, (40, ), generator=g), some_void),
    ]


def _components(nodes: list[int], edges: dict[int, set]) -> int:
    nodes_set, seen, count = set(nodes), set(), 0
    for start in nodes:
        if start in seen:
            continue
        count += 1
        queue = deque([start])
        seen.add(start)
        while queue:
            for m in edges.get(queue.popleft(), ()):
                if m in nodes_set and m not in seen:
                    seen.add(m)
                    queue.append(m)
    return count


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_class_connected_graph_follows_the_official_join_rules(seed):
    """GraphToTripletLayer, node by node: in absorption order, a node's
    positive and negative are earlier nodes of its class and of another
    class where such exist; else any other node of its class (itself when
    unique) and any node of another class; void nodes take no part."""
    for labels, valid in _label_sets(seed):
        t = class_connected_triplets(labels, valid,
                                     torch.Generator().manual_seed(seed))
        lab = labels.tolist()
        ok = [True] * len(lab) if valid is None else valid.tolist()
        order = t.order.tolist()
        assert sorted(order) == list(range(len(lab)))
        edges: dict[int, set] = {}
        unique = no_negative = 0
        for i, (a, p, n) in enumerate(t.indices.tolist()):
            assert a == i
            mates = [j for j in range(len(lab)) if ok[j] and j != i
                     and lab[j] == lab[i]]
            others = [j for j in range(len(lab)) if ok[j]
                      and lab[j] != lab[i]]
            if not ok[i]:
                assert not t.valid[i]
                continue
            if not others:
                no_negative += 1
                assert not t.valid[i]
                continue
            assert t.valid[i]
            if not mates:
                unique += 1
                assert p == i  # the paper's duplication
            elif any(order[j] < order[i] for j in mates):
                assert p in mates and order[p] < order[i]
                edges.setdefault(i, set()).add(p)
                edges.setdefault(p, set()).add(i)
            else:
                assert p in mates
            assert n in others
            if any(order[j] < order[i] for j in others):
                assert order[n] < order[i]
        for c in {x for x, v in zip(lab, ok) if v}:
            members = [i for i, x in enumerate(lab) if x == c and ok[i]]
            assert _components(members, edges) == 1  # one tree per class
            assert sum(len(edges.get(i, ())) for i in members) == 2 * (
                len(members) - 1)
        if any(ok):
            assert t.unique.item() == unique
            assert t.no_negative.item() == no_negative


def test_choices_are_uniform_among_the_candidates():
    """The last node absorbed takes each earlier node of its class as its
    positive equally often (the official ``np.random.choice``)."""
    labels = torch.tensor([0, 0, 0, 0, 1])
    pairs = torch.zeros(4, 4)
    for seed in range(2000):
        t = class_connected_triplets(labels, None,
                                     torch.Generator().manual_seed(seed))
        last = int(t.order.argmax())
        if last < 4:
            pairs[last, t.indices[last, 1]] += 1
    assert pairs.diagonal().sum() == 0
    off = pairs[~torch.eye(4, dtype=torch.bool)]
    expected = pairs.sum() / 12
    assert (off - expected).abs().max() < 4 * expected ** .5, pairs


def test_graph_is_reproducible_and_depends_on_the_generator():
    labels = torch.randint(0, 4, (50, ), generator=torch.Generator()
                           .manual_seed(0))
    a, b, c = (class_connected_triplets(
        labels, None, torch.Generator().manual_seed(s)).indices
        for s in (1, 1, 2))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize('sampler', [class_connected_triplets,
                                     random_triplets])
def test_single_class_and_void_batches_give_no_triplet(sampler):
    t = sampler(torch.full((6, ), 4))
    assert not t.valid.any() and t.no_negative.item() == 6
    t = sampler(torch.tensor([1, 2, 3]), torch.zeros(3, dtype=torch.bool))
    assert not t.valid.any() and t.no_negative.item() == 0


def test_random_triplets():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    lab = labels.tolist()
    positives = set()
    for seed in range(20):
        t = random_triplets(labels, None, torch.Generator().manual_seed(seed))
        assert t.valid.all() and t.unique.item() == 1
        for a, p, n in t.indices.tolist():
            assert lab[p] == lab[a] and lab[n] != lab[a]
            assert (p == a) == (lab.count(lab[a]) == 1)
        positives.add(tuple(t.indices[:, 1].tolist()))
    assert len(positives) > 1  # random, not a fixed pairing


# --------------------------------------------------------------------------- #
# the loss (eq. 1 with D of eq. 2), against a reference written out by hand
# --------------------------------------------------------------------------- #
def _reference_loss(features, triplets, margin, squared, halve=False):
    """Eq. 1 (1/N) or the authors' Caffe layer (1/(2N)), one triplet at a
    time."""
    total = 0.0
    for a, p, n in triplets.tolist():
        fa, fp, fn = (features[i] / features[i].norm() for i in (a, p, n))
        d_ap = ((fa - fp)**2).sum()
        d_an = ((fa - fn)**2).sum()
        if not squared:
            d_ap = d_ap.clamp(min=1e-12).sqrt()
            d_an = d_an.sqrt()
        total = total + torch.relu(d_ap - d_an + margin)
    return total / ((2 if halve else 1) * len(triplets))


@pytest.mark.parametrize('halve', [True, False])
@pytest.mark.parametrize('squared', [True, False])
@pytest.mark.parametrize('margin', [2.1, 0.2])
def test_triplet_loss_matches_reference(squared, margin, halve):
    g = torch.Generator().manual_seed(0)
    features = torch.randn(7, 4, 2, 2, dtype=torch.float64, generator=g)
    triplets = torch.tensor([[0, 1, 2], [1, 0, 3], [4, 4, 5], [6, 5, 0]])
    x1 = features.clone().requires_grad_()
    x2 = features.clone().requires_grad_()
    loss = TripletRankingLoss(margin=margin, squared=squared,
                              halve=halve)(x1, triplets)
    ref = _reference_loss(x2.flatten(1), triplets, margin, squared, halve)
    loss.backward()
    ref.backward()
    torch.testing.assert_close(loss, ref)
    torch.testing.assert_close(x1.grad, x2.grad)
    assert torch.isfinite(x1.grad).all()  # anchor 4 is its own positive
    if margin == 0.2:
        assert 0 < loss.item()  # some triplets active, some not
        assert len({bool(t) for t in (
            _reference_loss(features.flatten(1), triplets[i:i + 1], margin,
                            squared) > 0 for i in range(4))}) == 2


def test_paper_margin_never_saturates_with_euclidean_distances():
    """D <= 2 between unit vectors, so every hinge of alpha=2.1 is active."""
    g = torch.Generator().manual_seed(1)
    features = torch.randn(20, 8, generator=g)
    triplets = class_connected_triplets(torch.arange(20) % 3, None,
                                        g).indices
    x = features.requires_grad_()
    TripletRankingLoss(2.1, squared=False)(x, triplets).backward()
    a = F.normalize(features.detach(), dim=1)
    d = lambda i, j: (a[i] - a[j]).norm(dim=1)  # noqa: E731
    hinge = d(triplets[:, 0], triplets[:, 1]) - d(triplets[:, 0],
                                                  triplets[:, 2]) + 2.1
    assert (hinge > 0).all()


def test_loss_without_triplets_is_zero_with_a_zero_gradient():
    x = torch.randn(3, 5, requires_grad=True)
    loss = TripletRankingLoss()(x, torch.zeros(0, 3, dtype=torch.long))
    loss.backward()
    assert loss.item() == 0 and torch.equal(x.grad, torch.zeros(3, 5))
    x.grad = None
    loss = TripletRankingLoss()(x, torch.tensor([[0, 1, 2]] * 3),
                                torch.zeros(3, dtype=torch.bool))
    loss.backward()
    assert loss.item() == 0 and torch.equal(x.grad, torch.zeros(3, 5))


def test_masked_triplets_are_left_out_of_the_mean():
    g = torch.Generator().manual_seed(4)
    features = torch.randn(6, 3, dtype=torch.float64, generator=g)
    triplets = torch.tensor([[0, 1, 2], [3, 4, 5], [2, 0, 4], [5, 5, 1]])
    valid = torch.tensor([True, False, True, True])
    x1 = features.clone().requires_grad_()
    x2 = features.clone().requires_grad_()
    loss = TripletRankingLoss(margin=0.5, squared=False, halve=False)(
        x1, triplets, valid)
    ref = _reference_loss(x2, triplets[valid], 0.5, squared=False)
    loss.backward()
    ref.backward()
    torch.testing.assert_close(loss, ref)
    torch.testing.assert_close(x1.grad, x2.grad)


# --------------------------------------------------------------------------- #
# the patch sampler on real VOC images, against the authors' rules
# --------------------------------------------------------------------------- #
def _voc_batch(n: int = 6, size: int = 256):
    needs_voc12_mini()
    names = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
                 ).read().split()[:n]
    images, labels = [], []
    for name in names:
        img = cv2.imread(osp.join(VOC12_MINI, 'JPEGImages', name + '.jpg'))
        lab = np.array(Image.open(
            osp.join(VOC12_MINI, 'SegmentationClass', name + '.png')))
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)
        lab = cv2.resize(lab, (size, size), interpolation=cv2.INTER_NEAREST)
        images.append(torch.from_numpy(img).permute(2, 0, 1).float())
        labels.append(torch.from_numpy(lab).long())
    return torch.stack(images), torch.stack(labels)


def _official_dedup(centres: list[tuple[int, int]], sides: list[int],
                    h: int, w: int, wanted: int) -> list[int]:
    """``patchDeDup`` and the top-up of ``createRandomPatchImg``, written
    out: a 0/1 mask of kept boxes (clipped to the image); a candidate is
    skipped when the mask covers more than 0.6 of the FIRST candidate's
    area inside its box; skipped candidates top up in drawn order."""
    mask = np.zeros((h, w))
    first_area = float(sides[0] * sides[0])
    keep = []
    for i, ((y, x), s) in enumerate(zip(centres, sides)):
        r0, r1 = max(0, y - s // 2), min(y + s // 2, h)
        c0, c1 = max(0, x - s // 2), min(x + s // 2, w)
        if mask[r0:r1, c0:c1].sum() / first_area > 0.6:
            continue
        mask[r0:r1, c0:c1] = 1
        keep.append(i)
    if len(keep) < wanted:
        keep += [i for i in range(len(sides)) if i not in keep][
            :wanted - len(keep)]
    return keep[:wanted]


def test_duplicate_filter_is_the_authors_on_voc_foreground():
    images, labels = _voc_batch(8)
    sampler = PatchSampler(min_size=32, max_size=160)
    g = torch.Generator().manual_seed(0)
    fg = (labels > 0) & (labels < 255)
    for trial in range(3):
        # 45 candidates per image centred on its foreground, as drawn
        flat = torch.stack([torch.nonzero(m.flatten())[:, 0][torch.randint(
            int(m.sum()), (45, ), generator=g)] for m in fg])
        sides = torch.randint(32, 161, (8, 45), generator=g) // 2 * 2
        ours = sampler.deduplicate(flat, sides, (256, 256), 9)
        for i in range(8):
            centres = [(int(f) // 256, int(f) % 256) for f in flat[i]]
            assert ours[i].tolist() == _official_dedup(
                centres, sides[i].tolist(), 256, 256, 9), (trial, i)
    # the filter bites on these images: not always the first nine
    assert any(ours[i].tolist() != list(range(9)) for i in range(8))


def test_centres_are_uniform_among_the_allowed_pixels():
    from mmssl_seg.models.utils.patch_sampler import _uniform_pixels
    mask = torch.zeros(2, 6, 7, dtype=torch.bool)
    mask[0, 1, 2] = mask[0, 4, 0] = mask[0, 5, 6] = True
    mask[1] = True
    picks = _uniform_pixels(mask, 30000, torch.Generator().manual_seed(0))
    counts = torch.bincount(picks[0], minlength=42).float()
    assert set(counts.nonzero()[:, 0].tolist()) == {9, 28, 41}
    assert (counts[[9, 28, 41]] - 10000).abs().max() < 5 * 100
    counts = torch.bincount(picks[1], minlength=42).float()
    assert (counts > 0).all() and counts.std() / counts.mean() < 0.06


def test_patch_sampler_places_labels_and_crops_as_the_authors():
    images, labels = _voc_batch()
    sampler = PatchSampler(patches_per_image=10, min_size=32, max_size=128,
                           out_size=64)
    patches = sampler(images, labels, torch.Generator().manual_seed(0))
    p = 10 * len(images)  # 10 per image: the paper's graph size
    assert patches.valid.all() and len(patches.labels) == p
    assert patches.images.shape == (p, 3, 64, 64)
    boxes = patches.boxes
    sides = boxes[:, 2] - boxes[:, 0]
    assert torch.equal(sides, boxes[:, 3] - boxes[:, 1])  # square
    assert ((32 <= sides) & (sides <= 128)).all() and (sides % 2 == 0).all()
    cx, cy = boxes[:, 0] + sides // 2, boxes[:, 1] + sides // 2
    assert ((cx >= 0) & (cx < 256) & (cy >= 0) & (cy < 256)).all()
    assert torch.equal(patches.labels, labels[patches.image_index, cy, cx])
    assert torch.equal(patches.image_index,
                       torch.arange(len(images)).repeat_interleave(10))
    for i in range(len(images)):
        lab = patches.labels[i * 10:(i + 1) * 10]
        has_fg = ((labels[i] > 0) & (labels[i] < 255)).any()
        # 9 centred on foreground, then 1 on background
        assert (lab[:9] > 0).all() == bool(has_fg) and lab[9] == 0
    crossing = ((boxes[:, :2] < 0) | (boxes[:, 2:] > 256)).any(1)
    assert crossing.any()  # patches may reach over the border
    # the batched crop-and-resize equals the authors' get_patch: zero
    # padding (the mean after normalisation), crop, cv2.resize
    padded = F.pad(images, (128, 128, 128, 128))
    for k in range(0, p, 7):
        x0, y0, x1, y1 = (boxes[k] + 128).tolist()
        crop = padded[patches.image_index[k], :, y0:y1, x0:x1]
        expected = cv2.resize(crop.permute(1, 2, 0).numpy(), (64, 64),
                              interpolation=cv2.INTER_LINEAR)
        diff = np.abs(patches.images[k].permute(1, 2, 0).numpy() - expected)
        assert diff.mean() < 1.0, k  # pixel values 0..255


def test_pad_value_fills_what_lies_outside_the_image():
    """The colorization path pads raw black: -0.4488 in its grey space."""
    images, labels = _voc_batch(2, size=64)
    grey = images.mean(1, keepdim=True).expand(-1, 3, -1, -1) / 255 - 0.4488
    sampler = PatchSampler(min_size=64, max_size=64, out_size=64,
                           pad_value=-0.4488)
    patches = sampler(grey, labels, torch.Generator().manual_seed(1))
    for k in range(len(patches.labels)):
        x0, y0 = patches.boxes[k, :2].tolist()
        if x0 < -1:  # whole output columns left of the image
            outside = patches.images[k, :, :, :(-x0 - 1)]
            torch.testing.assert_close(outside, torch.full_like(
                outside, -0.4488))
            return
    raise AssertionError('no patch crossed the left border')


def test_patch_sampler_never_labels_void():
    images, labels = _voc_batch(3)
    labels[0] = 255  # all void: invalid slots
    labels[1, :, :128] = 255
    labels[2] = torch.where(labels[2] == 255, 255, 0)  # background only
    sampler = PatchSampler(min_size=16, max_size=64, out_size=16)
    patches = sampler(images, labels, torch.Generator().manual_seed(3))
    assert torch.equal(patches.valid, torch.arange(30) >= 10)
    assert (patches.labels[:10] == 255).all()
    assert (patches.labels[10:] != 255).all()
    centre_x = patches.boxes[:, 0] + (patches.boxes[:, 2] -
                                      patches.boxes[:, 0]) // 2
    assert (centre_x[10:20] >= 128).all()
    # without foreground every patch is centred on background
    assert (patches.labels[20:] == 0).all()


# --------------------------------------------------------------------------- #
# the algorithm
# --------------------------------------------------------------------------- #
@pytest.fixture(scope='module')
def tiny_mixmatch():
    cfg = Config.fromfile(MM_MINI)
    cfg.model.sampler.update(patches_per_image=3, min_size=16, max_size=48,
                             out_size=32)
    cfg.model.data_preprocessor.size = (64, 64)
    return cfg


def _batch(model, images, labels):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for lab in labels:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=lab[None])
        samples.append(s)
    return images, samples


def test_mixmatch_step_trains_the_backbone_and_resumes_exactly(tiny_mixmatch):
    images, labels = _voc_batch(3, size=64)
    torch.manual_seed(0)
    model = build_model(tiny_mixmatch)
    model.init_weights()
    inputs, samples = _batch(model, (images - 120) / 60, labels)

    losses = model.loss(inputs, samples)
    assert torch.isfinite(losses['loss_triplet'])
    assert losses['triplets'] == losses['patches'] == 9
    losses['loss_triplet'].backward()
    grads = [p.grad for p in model.backbone.parameters()]
    assert all(g is not None for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert state['step'] == 1

    after = model.loss(inputs, samples)  # the uninterrupted run's step 2
    resumed = build_model(tiny_mixmatch)
    resumed.load_state_dict(state)
    again = resumed.loss(inputs, samples)  # a resumed run's step 2
    assert torch.equal(after['loss_triplet'], again['loss_triplet'])
    assert after['patches'] == again['patches']
    first = build_model(tiny_mixmatch)
    first.load_state_dict(dict(state, step=torch.zeros_like(state['step'])))
    assert not torch.equal(first.loss(inputs, samples)['loss_triplet'],
                           after['loss_triplet'])  # steps drive the draws


def test_mixmatch_degenerate_batches_give_zero_loss(tiny_mixmatch):
    images, labels = _voc_batch(2, size=64)
    model = build_model(tiny_mixmatch)
    for fill, patches in ((255, 0), (7, None)):  # all void; one class
        labels[:] = fill
        inputs, samples = _batch(model, images / 255, labels)
        losses = model.loss(inputs, samples)
        assert losses['loss_triplet'].item() == 0
        assert losses['triplets'] == 0
        if patches is not None:
            assert losses['patches'] == patches
        losses['loss_triplet'].backward()  # a graph, with zero gradients
        assert all(p.grad is None or not p.grad.any()
                   for p in model.parameters())
    assert model.degenerate == 2
    assert losses['degenerate_batches'] == 2


# --------------------------------------------------------------------------- #
# hypercolumn head and the hand-off
# --------------------------------------------------------------------------- #
def test_sparse_hypercolumns_equal_dense_ones_at_the_sampled_pixels():
    from mmssl_seg.models.heads import HypercolumnHead
    head = HypercolumnHead(in_channels=[3, 4, 5], in_index=[0, 1, 2],
                           channels=6, num_classes=4, dropout_ratio=0.0,
                           norm_cfg=None).eval()
    g = torch.Generator().manual_seed(0)
    feats = [torch.randn(2, 3, 16, 20, generator=g),
             torch.randn(2, 4, 8, 10, generator=g),
             torch.randn(2, 5, 4, 5, generator=g)]
    dense = head(feats)  # 2 x 4 x 16 x 20 (finest stage's resolution)
    ys = torch.randint(16, (2, 30), generator=g)
    xs = torch.randint(20, (2, 30), generator=g)
    sparse = head.point_logits(feats, ys, xs, (16, 20))
    expected = dense[torch.arange(2)[:, None], :, ys, xs].transpose(1, 2)
    torch.testing.assert_close(sparse, expected, rtol=1e-5, atol=1e-5)


HC_PAPER = osp.join(REPO, 'configs/mix_match/'
                    'hypercolumn_vgg16-bn_4xb6-40k_voc12aug-512x512.py')


def test_full_hypercolumn_reads_the_authors_18_maps():
    """finetune_seg.prototxt's SparseHypercolumnExtractor: the input, the 13
    convolutions (after BN and ReLU), fc6, fc7, pool_add1 and pool_add2, at
    scales 1 1 1 2 2 4 4 4 8 8 8 16 16 16 32 32 64 128; 14467 channels."""
    from mmssl_seg.models.backbones import HypercolumnVGG
    vgg = HypercolumnVGG(norm_cfg=dict(type='BN'))
    vgg.eval()  # (MMPretrain's VGG.train returns None)
    with torch.no_grad():
        outs = vgg(torch.randn(1, 3, 256, 256))
    assert [256 // o.shape[-1] for o in outs] == [
        1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 64, 128]
    assert [o.shape[1] for o in outs] == vgg.out_channels
    assert sum(vgg.out_channels) == 14467
    cfg = Config.fromfile(HC_PAPER)
    assert list(cfg.model.decode_head.in_channels) == vgg.out_channels
    assert cfg.model.decode_head.num_points == 256
    assert cfg.model.decode_head.point_margin == 96
    assert cfg.train_dataloader.batch_size * 4 * \
        cfg.optim_wrapper.accumulative_counts == 48  # 6 x 4 GPUs x 2
    # the 13 convolutions are MMPretrain's VGG16-BN, under the same names
    from mmpretrain.models import VGG
    plain = VGG(16, norm_cfg=dict(type='BN'), out_indices=(4, ))
    assert set(plain.state_dict()) < set(vgg.state_dict())


def test_dense_hypercolumns_without_the_concatenation():
    """A norm-free first layer applied per map and upsampled equals the
    upsampled, concatenated hypercolumn through the same layer."""
    from mmssl_seg.models.heads import HypercolumnHead
    g = torch.Generator().manual_seed(0)
    head = HypercolumnHead(in_channels=[3, 4, 5], in_index=[0, 1, 2],
                           channels=6, num_classes=4, dropout_ratio=0.0,
                           norm_cfg=None).eval()
    feats = [torch.randn(2, 3, 16, 20, generator=g, dtype=torch.float64),
             torch.randn(2, 4, 8, 10, generator=g, dtype=torch.float64),
             torch.randn(2, 5, 3, 4, generator=g, dtype=torch.float64)]
    head = head.double()
    stacked = torch.cat([feats[0]] + [F.interpolate(
        f, size=(16, 20), mode='bilinear', align_corners=False)
        for f in feats[1:]], dim=1)
    torch.testing.assert_close(head(feats), head._predict(stacked))


def test_training_pixels_keep_off_the_border():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from mmssl_seg.models.heads import HypercolumnHead
    head = HypercolumnHead(in_channels=[2], in_index=[0], channels=3,
                           num_classes=2, num_points=500, point_margin=12,
                           norm_cfg=None)
    seen = []
    head.point_logits = lambda inputs, ys, xs, size: (
        seen.append((ys, xs)) or torch.zeros(1, 2, ys.shape[1]))
    label = torch.zeros(1, 40, 40, dtype=torch.long)
    head.loss([torch.zeros(1, 2, 10, 10)],
              [SegDataSample(gt_sem_seg=PixelData(data=label))], {})
    ys, xs = seen[0]
    assert ys.min() == xs.min() == 12 and ys.max() == xs.max() == 27


def test_mixmatch_weights_hand_off_to_hypercolumn_and_deeplabv3(
        tiny_mixmatch, tmp_path):
    from mmssl_seg.checkpoint.converter import extract_pretrained
    model = build_model(tiny_mixmatch)
    src = str(tmp_path / 'mm.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, src)
    for target in (HC_MINI, HC_PAPER,
                   osp.join(REPO, 'configs/mix_match/'
                            'deeplabv3_vgg16-bn_1xb8-400_voc12mini-128x128.py')):
        out = str(tmp_path / 'out.pth')
        # the paper's fine-tuning adds fc6, fc7 and two blocks from scratch
        fresh = [r'^fc[67]\.', r'^conv_add'] if target == HC_PAPER else []
        reports = extract_pretrained(src, out, target, ['backbone'],
                                     allow_missing=fresh)
        saved = torch.load(out, weights_only=True)['state_dict']
        assert reports[0].tensors == len(saved) == len(
            model.backbone.state_dict())
        for k, v in model.backbone.state_dict().items():
            assert torch.equal(saved['backbone.' + k], v)
    # the paper's fine-tuning config lets exactly those layers start fresh
    from mmssl_seg.engine.hooks.pretrained_check_hook import pretrained_gaps
    cfg = Config.fromfile(HC_PAPER)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=out,
                                       prefix='backbone.')
    target = build_model(cfg)
    allowed = cfg.custom_hooks[0].allow_missing
    assert pretrained_gaps(target, allowed) == []
    assert 'fc6.conv.weight' in pretrained_gaps(target)[0]


# --------------------------------------------------------------------------- #
# the t-SNE picture (paper Fig. 4)
# --------------------------------------------------------------------------- #
def test_knn_accuracy_by_hand():
    from mmssl_seg.visualization.patch_tsne import knn_accuracy
    labels = torch.tensor([0] * 6 + [1] * 6)
    separated = F.normalize(torch.stack(
        [torch.tensor([1.0, 0.1 * i]) for i in range(6)] +
        [torch.tensor([0.1 * i, 1.0]) for i in range(6)]), dim=1)
    assert knn_accuracy(separated, labels) == 100.0
    # two tight pairs, each pair holding both classes: every nearest
    # neighbour has the other label
    pairs = F.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.01],
                                      [0.0, 1.0], [0.01, 1.0]]), dim=1)
    assert knn_accuracy(pairs, torch.tensor([0, 1, 0, 1]), k=1) == 0.0
    assert knn_accuracy(pairs, torch.tensor([0, 0, 1, 1]), k=1) == 100.0


def test_tsne_tool_draws_before_and_after(tmp_path):
    import json

    from tests.conftest import run_tool
    needs_voc12_mini()
    out = str(tmp_path / 'tsne.png')
    proc = run_tool(sys.executable, 'tools/eval/tsne_patches.py', MM_MINI,
                    '--checkpoints', 'random', 'random', '--names', 'a', 'b',
                    '--images', '6', '--out', out)
    assert proc.returncode == 0, proc.stdout[-3000:]
    picture = cv2.imread(out)
    assert picture is not None and picture.shape[1] > picture.shape[0]
    result = json.load(open(str(tmp_path / 'tsne.json')))
    assert result['patches'] > 6
    for name in ('a', 'b'):
        assert 0 <= result['models'][name]['knn5_accuracy'] <= 100


# --------------------------------------------------------------------------- #
# the colorization route: a grey Caffe-named VGG16 into the stock VGG16
# --------------------------------------------------------------------------- #
def test_colorization_vgg16_runs_as_the_grey_network(tmp_path):
    """A VGG16 named by its Caffe layers with a 1-channel conv1_1 (the
    colorization proxy's input), converted with --source-layout caffe-vgg16
    into the M&M config, computes on a real image fed through
    ColorizationDataPreProcessor what the grey network computes."""
    from torch import nn

    from mmssl_seg.checkpoint.converter import extract_pretrained
    widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    names = [f'conv{b}_{i}' for b, n in ((1, 2), (2, 2), (3, 3), (4, 3),
                                         (5, 3)) for i in range(1, n + 1)]
    g = torch.Generator().manual_seed(0)
    state, layers, cin = {}, [], 1
    for name, cout in zip(names, widths):
        state[f'{name}.weight'] = torch.randn(cout, cin, 3, 3,
                                              generator=g) * (2 / cin / 9)**.5
        state[f'{name}.bias'] = torch.randn(cout, generator=g) * 0.1
        for p, v in (('weight', 1 + 0.1 * torch.randn(cout, generator=g)),
                     ('bias', 0.1 * torch.randn(cout, generator=g)),
                     ('running_mean', 0.1 * torch.randn(cout, generator=g)),
                     ('running_var', 1 + torch.rand(cout, generator=g))):
            state[f'batch_{name}.{p}'] = v
        conv, bn = nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout)
        conv.weight.data, conv.bias.data = state[f'{name}.weight'], state[
            f'{name}.bias']
        for p in ('weight', 'bias', 'running_mean', 'running_var'):
            getattr(bn, p).data = state[f'batch_{name}.{p}']
        layers += [conv, bn, nn.ReLU()]
        if name in ('conv1_2', 'conv2_2', 'conv3_3', 'conv4_3', 'conv5_3'):
            layers.append(nn.MaxPool2d(2, 2))
        cin = cout
    state['fc6.weight'] = torch.zeros(4096, 512, 7, 7)
    grey_vgg = nn.Sequential(*layers).eval()
    source = str(tmp_path / 'colorization_vgg16.pth')
    torch.save(state, source)
    config = osp.join(REPO, 'configs/mix_match/mix-match_vgg16-bn-colorization'
                      '_1xb16-8k_voc12aug-512x512.py')
    out = str(tmp_path / 'backbone.pth')
    reports = extract_pretrained(source, out, config, ['backbone'],
                                 source_layout='caffe-vgg16',
                                 source_prefixes={'backbone': ''},
                                 allow_unexpected=[r'^fc'])
    assert reports[0].ignored_unexpected == ['fc6.conv.weight']
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=out,
                                       prefix='backbone.')
    model = build_model(cfg)
    model.init_weights()
    model.eval()
    images, labels = _voc_batch(1, size=64)
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample(gt_sem_seg=PixelData(data=labels[0][None]))
    data = model.data_preprocessor(
        {'inputs': [images[0].to(torch.uint8)], 'data_samples': [sample]})
    ours = model.dense_features(data['inputs'], 'backbone')
    grey = images[0].mean(0)[None, None] / 255 - 0.4488  # their take_mean
    with torch.no_grad():
        theirs = grey_vgg(grey)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
