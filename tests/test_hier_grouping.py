"""Hierarchical grouping: region trees (hand-built and from real BSDS
images), the BSDS benchmark, pair sampling against eqs. 2-3, augmented
references on real views, the loss against a hand-written reference, a
training step of the mini config and the hand-off to the frozen ASPP
evaluation."""
from __future__ import annotations

import glob
import json
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmssl_seg.models.builder import build_model
from mmssl_seg.models.losses import GroupingContrastLoss
from mmssl_seg.models.utils import map_between_views, sample_tree_pairs
from mmssl_seg.priors.hierarchy import (
    ColourGradientEdges,
    hierarchy,
    make_hierarchies,
    thin_edges,
    ucm_tree,
)
from mmssl_seg.structures import RegionTree
from tests.conftest import (
    DATA_ROOT,
    REPO,
    VOC12_MINI,
    needs_voc12_mini,
    run_tool,
)

BSDS = osp.join(DATA_ROOT, 'bsds500')
MINI = osp.join(REPO, 'configs/hier_grouping/'
                'hier-grouping_r18_1xb16-400_voc12mini-112x112.py')
ASPP_MINI = osp.join(REPO, 'configs/hier_grouping/'
                     'aspp-frozen_r18-hypercolumn_1xb8-400_voc12mini-128x128.py')


def needs_bsds() -> None:
    if not osp.isdir(BSDS):
        pytest.skip(f'real data not found: {BSDS}')


def bsds_image(split: str = 'val', index: int = 0) -> tuple[str, str]:
    needs_bsds()
    path = sorted(glob.glob(osp.join(BSDS, 'images', split, '*.jpg')))[index]
    return osp.splitext(osp.basename(path))[0], path


# --------------------------------------------------------------------------- #
# region trees
# --------------------------------------------------------------------------- #
def hand_tree() -> RegionTree:
    """Leaves 0, 1 merge at 0.2 (node 4), 2, 3 at 0.5 (node 5), all at 0.9.
    Leaf map: a 2 x 4 image, one column per leaf."""
    leaves = np.array([[0, 1, 2, 3], [0, 1, 2, 3]], np.uint8)
    parents = np.array([4, 4, 5, 5, 6, 6, 6])
    altitudes = np.array([0, 0, 0, 0, 0.2, 0.5, 0.9], np.float32)
    return RegionTree(leaves, parents, altitudes)


def test_tree_distances_cuts_and_boundaries_on_a_hand_built_tree(tmp_path):
    tree = hand_tree()
    expected = np.array([[0, .2, .9, .9], [.2, 0, .9, .9],
                         [.9, .9, 0, .5], [.9, .9, .5, 0]], np.float32)
    np.testing.assert_allclose(tree.distances(), expected)
    assert len(np.unique(tree.cut(0.3))) == 3
    assert len(np.unique(tree.cut(0.6))) == 2
    assert len(np.unique(tree.cut(0.0))) == 4
    np.testing.assert_allclose(tree.boundaries()[0], [.2, .9, .5, 0])
    tree.save(str(tmp_path / 't.npz'))
    again = RegionTree.load(str(tmp_path / 't.npz'))
    np.testing.assert_allclose(again.distances(), expected)
    with pytest.raises(FileNotFoundError, match='missing.npz'):
        RegionTree.load(str(tmp_path / 'missing.npz'))
    (tmp_path / 'bad.npz').write_bytes(b'not a tree')
    with pytest.raises(ValueError, match='bad.npz'):
        RegionTree.load(str(tmp_path / 'bad.npz'))


def test_d_t_level_is_the_rank_of_the_merge_and_ties_share_a_level():
    tree = hand_tree()  # merges at 0.2, 0.5, 0.9: levels 1, 2, 3
    np.testing.assert_array_equal(tree.levels(), [0, 0, 0, 0, 1, 2, 3])
    np.testing.assert_allclose(tree.distances('level'), [
        [0, 1, 3, 3], [1, 0, 3, 3], [3, 3, 0, 2], [3, 3, 2, 0]])
    # two merges at the same altitude form one level of the hierarchy
    tied = RegionTree(hand_tree().leaves, hand_tree().parents,
                      np.array([0, 0, 0, 0, 0.4, 0.4, 0.7], np.float32))
    np.testing.assert_array_equal(tied.levels()[4:], [1, 1, 2])
    with pytest.raises(ValueError, match='d_t must be one of'):
        tree.distances('depth')


def test_tree_pair_stats_against_eqs_2_3_by_hand_and_on_real_trees(tmp_path):
    from mmssl_seg.evaluation.protocols.tree_pairs import pair_stats
    stats = pair_stats([hand_tree()], sigma=0.8, d_t='level')
    d = np.array([[0, 1, 3, 3], [1, 0, 3, 3], [3, 3, 0, 2], [3, 3, 2, 0.]])
    own, same = [], []
    for a in range(4):  # eq. 2 with the self weight cast to 1, eq. 3
        w_pos = np.where(np.arange(4) == a, 1.0, np.exp(-d[a] / 0.8))
        w_neg = np.where(np.arange(4) == a, 0.0, np.exp(d[a] / 0.8))
        own.append(w_pos[a] / w_pos.sum())
        same.append((w_pos / w_pos.sum() * w_neg / w_neg.sum()).sum())
    assert stats['pos_in_anchor_region'] == pytest.approx(np.mean(own))
    assert stats['pos_neg_same_region'] == pytest.approx(np.mean(same))
    assert stats['neg_in_anchor_region'] == 0
    # real trees (the first 4 voc12_mini train images): the level reading
    # concentrates positives in the anchor's region, the altitude reading
    # spreads them over the image (sigma_p = 0.8 against d_T in [0, 1])
    needs_voc12_mini()
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()[:4]
    folder = str(tmp_path / 'hier')
    make_hierarchies([(i, osp.join(VOC12_MINI, 'JPEGImages', i + '.jpg'))
                      for i in ids], folder, ColourGradientEdges())
    lines = {}
    for d_t in ('level', 'altitude'):
        result = run_tool(sys.executable, 'tools/analysis/tree_pair_stats.py',
                          folder, '--d-t', d_t)
        assert result.returncode == 0, result.stdout[-2000:]
        lines[d_t] = json.loads(result.stdout.strip().splitlines()[-1])
        assert lines[d_t]['trees'] == 4
        assert lines[d_t]['neg_in_anchor_region'] == 0
    assert lines['level']['pos_in_anchor_region'] >= 0.5
    assert lines['altitude']['pos_in_anchor_region'] < 0.2
    assert lines['level']['pos_neg_same_region'] < 1e-6 < \
        lines['altitude']['pos_neg_same_region']


@pytest.fixture(scope='module')
def bsds_tree():
    _, path = bsds_image()
    image = cv2.imread(path)
    tree, ucm2 = hierarchy(image, ColourGradientEdges(), max_leaves=40)
    return image, tree, ucm2


def mean_boundary_merges(leaves: np.ndarray, strength: np.ndarray
                         ) -> list[float]:
    """Reference UCM (Arbelaez et al. sec. 4.2) in plain Python: every
    4-adjacent pixel pair across two regions is a boundary element of
    strength max(strength_p, strength_q); merge the pair of regions with
    the lowest mean boundary strength, then the next; the merge levels."""
    sums: dict[tuple[int, int], list[float]] = {}
    for a, b in ((leaves[:, :-1], leaves[:, 1:]),
                 (leaves[:-1], leaves[1:])):
        sa = strength[:a.shape[0], :a.shape[1]]
        sb = strength[-b.shape[0]:, -b.shape[1]:]
        for p, q, v in zip(a.ravel(), b.ravel(),
                           np.maximum(sa, sb).ravel()):
            if p != q:
                key = (min(p, q), max(p, q))
                sums.setdefault(key, [0.0, 0])
                sums[key][0] += float(v)
                sums[key][1] += 1
    levels = []
    while sums:
        (a, b), (total, count) = min(sums.items(),
                                     key=lambda kv: kv[1][0] / kv[1][1])
        levels.append(total / count)
        merged: dict[tuple[int, int], list[float]] = {}
        for (p, q), (t, c) in sums.items():
            if (p, q) == (a, b):
                continue
            p, q = (a if p == b else p), (a if q == b else q)
            key = (min(p, q), max(p, q))
            merged.setdefault(key, [0.0, 0])
            merged[key][0] += t
            merged[key][1] += c
        sums = merged
    return levels


def test_nms_arcs_give_the_mean_boundary_ucm_of_the_thinned_edges():
    """--arcs nms: the watershed regions of the edge map merge by the mean
    of the SE-thinned strength along their boundaries, as a plain-Python
    UCM computes it; the thinned strength is what the arcs carry (the
    edges' flanks carry nothing)."""
    import higra as hg
    image = cv2.imread(bsds_image('val', 1)[1])[100:160, 150:230]
    edges, orientation = ColourGradientEdges()(image)
    _, tree, altitudes = ucm_tree(edges, orientation, min_area=0,
                                  arcs='nms')
    leaves = hg.CptRegionAdjacencyGraph.get_vertex_map(
        hg.CptHierarchy.get_leaf_graph(tree)).reshape(edges.shape)
    assert 10 < leaves.max() < 1000  # a real over-segmentation
    ref = mean_boundary_merges(leaves, thin_edges(edges, orientation))
    # ties (arcs of strength 0) may merge in another order: same levels
    np.testing.assert_allclose(np.sort(altitudes[tree.num_leaves():]),
                               np.sort(ref), atol=1e-6)
    flat = mean_boundary_merges(leaves, edges)  # unthinned: another UCM
    assert np.abs(np.asarray(flat) - ref).max() > 0.05
    with pytest.raises(ValueError, match='arcs must be one of'):
        ucm_tree(edges, orientation, arcs='mean')


def test_real_tree_is_an_ultrametric_of_at_most_40_regions(bsds_tree):
    image, tree, ucm2 = bsds_tree
    d = tree.distances()
    assert tree.leaves.shape == image.shape[:2]
    assert 2 <= tree.num_leaves <= 40
    assert set(np.unique(tree.leaves)) == set(range(tree.num_leaves))
    np.testing.assert_allclose(d, d.T)
    # ultrametric: d(a, c) <= max(d(a, b), d(b, c)) for all triples
    assert (d[:, None, :] <= np.maximum(d[:, :, None], d[None]) + 1e-6).all()
    assert ucm2.shape == (2 * image.shape[0] + 1, 2 * image.shape[1] + 1)
    # the stored tree's partitions are the full UCM's cuts above its
    # finest level (the UCM's regions sit at the pixels [1::2, 1::2])
    from skimage.measure import label
    from sklearn.metrics import adjusted_rand_score
    merges = np.sort(tree.altitudes[tree.num_leaves:])
    for level in (merges[len(merges) // 2], merges[-2]):
        full = label(ucm2 <= level, connectivity=1)[1::2, 1::2]
        assert adjusted_rand_score(full.ravel(),
                                   tree.cut(level).ravel()) == 1.0
    strong = tree.boundaries() > 0
    assert 0.005 < strong.mean() < 0.3


# --------------------------------------------------------------------------- #
# the offline tool and the BSDS benchmark
# --------------------------------------------------------------------------- #
def test_make_hierarchies_resumes_shards_and_records_parameters(tmp_path):
    needs_bsds()
    images = [bsds_image('val', i) for i in range(3)]
    out = str(tmp_path / 'hier')
    first = make_hierarchies(images, out, ColourGradientEdges(),
                             shard_spec=(1, 2))
    assert sorted(first['entries']) == [images[0][0], images[2][0]]
    assert first['complete'] is False
    done = make_hierarchies(images, out, ColourGradientEdges(),
                            shard_spec=(2, 2))
    assert done['complete'] and len(done['entries']) == 3
    assert done['params'] == {'detector': {'name': 'colour_gradient',
                                           'sigma': 1.5},
                              'max_leaves': 40, 'min_area': 0.005,
                              'arcs': 'owt'}  # the paper's OWT-UCM
    stamp = osp.getmtime(osp.join(out, 'trees', images[0][0] + '.npz'))
    make_hierarchies(images, out, ColourGradientEdges(), shard_spec=(1, 2))
    assert osp.getmtime(osp.join(out, 'trees',
                                 images[0][0] + '.npz')) == stamp
    with pytest.raises(ValueError, match='other parameters'):
        make_hierarchies(images, out, ColourGradientEdges(), max_leaves=20)
    ids = open(osp.join(out, 'ids.txt')).read().split()
    assert ids == sorted(i for i, _ in images)


def test_bsds_benchmark_cli_reports_ours_next_to_gpb(tmp_path):
    needs_bsds()
    hier = tmp_path / 'hier'
    result = run_tool(sys.executable, 'tools/priors/make_hierarchies.py',
                      str(hier), '--images', osp.join(BSDS, 'images', 'test'),
                      '--ids', str(_ids(tmp_path, 'test', 2)), '--edges',
                      'colour_gradient', '--workers', '1', '--picture', '2')
    assert result.returncode == 0, result.stdout[-3000:]
    assert cv2.imread(str(hier / 'hierarchies.png')) is not None
    result = run_tool(sys.executable, 'tools/eval/bsds_benchmark.py',
                      str(hier / 'ucm2'), '--thresholds', '5', '--workers',
                      '1', '--out-dir', str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.load(open(tmp_path / 'bsds_benchmark.json'))
    assert report['images'] == 2
    for key in ('ODS', 'OIS', 'AP', 'covering_ODS'):
        assert 0.1 < report[key] < 1, key
    assert report['reference']['ODS'] == pytest.approx(0.726, abs=1e-3)


def test_bsds_benchmark_scores_ground_truth_as_perfect_and_noise_low():
    from mmssl_seg.evaluation.functional.bsds import (
        boundary_counts,
        covering,
        summarise_boundaries,
    )
    from mmssl_seg.evaluation.protocols.bsds import read_bsds_ground_truth
    stem, _ = bsds_image('val', 1)
    boundaries, segments = read_bsds_ground_truth(
        osp.join(BSDS, 'groundTruth', 'val', stem + '.mat'))
    thresholds = np.array([0.5])
    counts = boundary_counts(boundaries[0].astype(float), boundaries[:1],
                             thresholds)
    # an annotator against itself: perfect up to the thinning of its lines
    assert summarise_boundaries(counts[None], thresholds)['ODS'] > 0.99
    noise = np.random.default_rng(0).random(boundaries[0].shape) > 0.9
    counts = boundary_counts(noise.astype(float), boundaries, thresholds)
    noise_ods = summarise_boundaries(counts[None], thresholds)['ODS']
    from mmssl_seg.structures import read_ucm2
    gpb = read_ucm2(osp.join(BSDS, 'ucm2_gpb', 'val', stem + '.mat'))
    levels = np.linspace(0.05, 0.95, 7)
    counts = boundary_counts(gpb[2::2, 2::2], boundaries, levels)
    gpb_ods = summarise_boundaries(counts[None], levels)['ODS']
    assert noise_ods < 0.5 < gpb_ods
    assert covering(segments[0], segments[0]) == 1.0
    assert covering(np.zeros_like(segments[0]), segments[0]) < 1.0


def _ids(tmp_path, split: str, count: int):
    path = tmp_path / f'{split}_ids.txt'
    stems = [bsds_image(split, i)[0] for i in range(count)]
    path.write_text('\n'.join(stems))
    return path


# --------------------------------------------------------------------------- #
# pair sampling (eqs. 2-3), augmented references, cross-image negatives
# --------------------------------------------------------------------------- #
def test_sampling_follows_eqs_2_and_3_on_a_real_tree():
    _, path = bsds_image('val', 2)
    tree, _ = hierarchy(cv2.imread(path), ColourGradientEdges(),
                        max_leaves=6)
    k = tree.num_leaves
    d = tree.distances('level')
    regions = torch.from_numpy(tree.leaves[::4, ::4].astype(np.int64))
    present = np.bincount(regions.flatten().numpy(), minlength=k) > 0
    batch = 64
    gen = torch.Generator().manual_seed(0)
    pos_counts = np.zeros((k, k))
    neg_counts = np.zeros((k, k))
    for _ in range(20):
        pairs = sample_tree_pairs(regions[None].expand(batch, -1, -1),
                                  torch.from_numpy(d)[None].expand(
                                      batch, -1, -1),
                                  num_anchors=7, num_pos=10, num_neg=5,
                                  sigma=0.8, generator=gen)
        flat = regions.flatten()
        hw = flat.numel()
        a = flat[pairs.anchors % hw].numpy()
        p = flat[pairs.positives % hw].numpy()
        n = flat[pairs.negatives % hw].numpy()
        np.add.at(pos_counts, (np.repeat(a, 10), p.ravel()), 1)
        np.add.at(neg_counts, (np.repeat(a, 5), n.ravel()), 1)
        assert (pairs.anchors // hw == torch.arange(batch).repeat_interleave(
            min(7, k))).all()  # anchors stay in their image
    for a in np.flatnonzero(present):
        w_pos = np.where(np.arange(k) == a, 1.0, np.exp(-d[a] / 0.8))
        w_neg = np.where(np.arange(k) == a, 0.0, np.exp(d[a] / 0.8))
        w_pos, w_neg = w_pos * present, w_neg * present
        for counts, w in ((pos_counts, w_pos), (neg_counts, w_neg)):
            observed = counts[a] / counts[a].sum()
            tv = 0.5 * np.abs(observed - w / w.sum()).sum()
            assert tv < 0.05, (a, observed, w / w.sum())
    assert neg_counts.diagonal().sum() == 0


def test_single_region_and_cross_image_negatives():
    single = torch.zeros(2, 8, 8, dtype=torch.long)
    dist = torch.zeros(2, 3, 3)  # padded: regions 1 and 2 absent
    pairs = sample_tree_pairs(single, dist, cns=5,
                              generator=torch.Generator().manual_seed(0))
    assert not pairs.valid.any()  # no negative region: no pairs
    loss_fn = GroupingContrastLoss()
    feats = torch.randn(2, 4, 8, 8, requires_grad=True)
    rows = feats.permute(0, 2, 3, 1).reshape(-1, 4)
    loss, stats = loss_fn(rows[pairs.anchors], rows[pairs.positives],
                          pairs.valid[:, None].expand(-1, 10),
                          rows[pairs.negatives],
                          pairs.valid[:, None].expand(-1, 5))
    loss.backward()
    assert loss.item() == 0 and stats['pairs'] == 0
    assert torch.isfinite(feats.grad).all()

    two = torch.zeros(3, 8, 8, dtype=torch.long)
    two[:, :, 4:] = 1
    pairs = sample_tree_pairs(two, torch.tensor([[0., 1], [1, 0]]).expand(
        3, 2, 2), cns=20, generator=torch.Generator().manual_seed(1))
    anchor_image = pairs.anchors // 64
    assert pairs.valid.all() and pairs.cross_valid.all()
    assert (pairs.cross_image // 64 != anchor_image[:, None]).all()
    alone = sample_tree_pairs(two[:1], torch.tensor([[[0., 1], [1, 0]]]),
                              cns=5)
    assert not alone.cross_valid.any()  # one image: no cross-image negative


def test_augmented_references_land_on_the_same_scene_points():
    needs_voc12_mini()
    from mmssl_seg.datasets.transforms import RegionViews
    image = cv2.imread(osp.join(VOC12_MINI, 'JPEGImages',
                                '2007_000032.jpg'))
    np.random.seed(3)
    results = RegionViews(size=96, num_views=2, scale=(0.3, 1.0))(
        dict(img=image, gt_regions=np.zeros(image.shape[:2], np.uint8)))
    views = [torch.from_numpy(v.astype(np.float32)).permute(2, 0, 1)
             for v in results['img']]
    boxes = torch.from_numpy(results['view_boxes'])[None]
    grid = (24, 24)
    first = torch.nn.functional.interpolate(views[0][None], size=grid,
                                            mode='area')
    flat = torch.arange(24 * 24)
    coords, inside = map_between_views(flat, boxes, grid, (96, 96))
    assert inside.float().mean() > 0.1
    sampled = torch.nn.functional.grid_sample(
        views[1][None], coords[inside][None, None], align_corners=False)[
            0, :, 0].T
    source = first[0].flatten(1).T[inside]
    same = (sampled - source).abs().mean()
    shuffled = (sampled - source[torch.randperm(len(source))]).abs().mean()
    assert same < 0.35 * shuffled, (same, shuffled)


# --------------------------------------------------------------------------- #
# the loss against a hand-written reference
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize('form', ['log', 'prob'])
def test_loss_matches_a_hand_written_reference(form):
    torch.manual_seed(0)
    a = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    p = torch.randn(3, 4, 5, dtype=torch.float64, requires_grad=True)
    n = torch.randn(3, 6, 5, dtype=torch.float64, requires_grad=True)
    pv = torch.tensor([[1, 1, 0, 1], [1, 0, 0, 0], [1, 1, 1, 1]]).bool()
    nv = torch.tensor([[1] * 6, [1, 1, 0, 0, 0, 0], [0] * 6]).bool()
    loss, stats = GroupingContrastLoss(form, temperature=0.5)(a, p, pv, n, nv)

    def cos(x, y):
        return (x @ y) / (x.norm() * y.norm())

    terms = []
    for i in range(3):
        if not nv[i].any():
            continue  # no negative: eq. 1 is undefined
        for m in range(4):
            if not pv[i, m]:
                continue
            e_pos = torch.exp(cos(a[i], p[i, m]) / 0.5)
            e_neg = sum(torch.exp(cos(a[i], n[i, j]) / 0.5)
                        for j in range(6) if nv[i, j])
            prob = e_pos / (e_pos + e_neg)
            terms.append(torch.log(prob) if form == 'log' else prob)
    reference = -torch.stack(terms).mean()
    assert stats['pairs'] == 4 and stats['anchors_without_negative'] == 1
    torch.testing.assert_close(loss, reference)
    grads = torch.autograd.grad(loss, (a, p, n))
    expected = torch.autograd.grad(reference, (a, p, n))
    for g, e in zip(grads, expected):
        torch.testing.assert_close(g, e)


# --------------------------------------------------------------------------- #
# the model on real images: a training step, resume, the hand-off
# --------------------------------------------------------------------------- #
@pytest.fixture(scope='module')
def mini_cfg(tmp_path_factory):
    needs_voc12_mini()
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()[:4]
    images = [(i, osp.join(VOC12_MINI, 'JPEGImages', i + '.jpg'))
              for i in ids]
    folder = str(tmp_path_factory.mktemp('hier'))
    make_hierarchies(images, folder, ColourGradientEdges())
    import os
    os.environ['HIERARCHY_DIR'] = folder
    try:
        cfg = Config.fromfile(MINI)
    finally:
        del os.environ['HIERARCHY_DIR']
    return cfg


def _batch(cfg):
    init_default_scope('mmseg')
    np.random.seed(0)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    return default_collate([dataset[i] for i in range(len(dataset))])


def test_load_region_hierarchy_names_missing_and_mis_sized_files(tmp_path):
    needs_voc12_mini()
    from mmssl_seg.datasets.transforms import LoadRegionHierarchy
    image = np.zeros((10, 12, 3), np.uint8)
    load = LoadRegionHierarchy(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='x.npz'):
        load(dict(img=image, img_path='/data/x.jpg'))
    (tmp_path / 'trees').mkdir()
    hand_tree().save(str(tmp_path / 'trees' / 'x.npz'))
    with pytest.raises(ValueError, match=r'x.npz is \(2, 4\)'):
        load(dict(img=image, img_path='/data/x.jpg'))
    results = load(dict(img=np.zeros((2, 4, 3), np.uint8),
                        img_path='/data/x.jpg'))
    np.testing.assert_array_equal(results['tree_distance'],
                                  hand_tree().distances('level'))
    altitude = LoadRegionHierarchy(str(tmp_path), d_t='altitude')(
        dict(img=np.zeros((2, 4, 3), np.uint8), img_path='/data/x.jpg'))
    np.testing.assert_array_equal(altitude['tree_distance'],
                                  hand_tree().distances('altitude'))
    with pytest.raises(ValueError, match='d_t must be one of'):
        LoadRegionHierarchy(str(tmp_path), d_t='depth')


def test_training_step_and_exact_resume(mini_cfg):
    data = _batch(mini_cfg)
    assert data['data_samples'][0].gt_regions.data.shape == (2, 112, 112)
    torch.manual_seed(0)
    model = build_model(mini_cfg)
    model.init_weights()
    batch = model.data_preprocessor(data, True)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert torch.isfinite(losses['loss_grouping'])
    # 4 images x 7 anchors x (10 + up to 10 augmented) positives
    assert 4 * 7 * 10 <= losses['pairs'] <= 4 * 7 * 20
    losses['loss_grouping'].backward()
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0  # V1c stem
    assert int(model.step) == 1
    again = model.loss(batch['inputs'], batch['data_samples'])
    resumed = build_model(mini_cfg)
    state['step'] += 1  # as a checkpoint written after the first step
    resumed.load_state_dict(state)
    # the same pairs as the unbroken run: the step buffer seeds the sampling
    resumed_losses = resumed.loss(batch['inputs'], batch['data_samples'])
    for key in ('loss_grouping', 'pairs'):
        torch.testing.assert_close(resumed_losses[key], again[key])


def test_hand_off_into_the_frozen_aspp_evaluation(mini_cfg, tmp_path):
    from mmssl_seg.checkpoint.converter import extract_pretrained
    model = build_model(mini_cfg)
    source = str(tmp_path / 'pretrain.pth')
    torch.save({'state_dict': model.state_dict()}, source)
    out = str(tmp_path / 'frozen.pth')
    extract_pretrained(source, out, ASPP_MINI, ['backbone', 'neck'])
    saved = torch.load(out, weights_only=True)['state_dict']
    assert any(k.startswith('neck.embed') for k in saved)
    target = build_model(Config.fromfile(ASPP_MINI))
    target.backbone.init_cfg = dict(type='Pretrained', checkpoint=out,
                                    prefix='backbone.')
    target.neck.init_cfg = dict(type='Pretrained', checkpoint=out,
                                prefix='neck.')
    target.init_weights()
    torch.testing.assert_close(target.neck.embed.weight,
                               model.neck.embed.weight)
    target.train()
    assert not target.neck.training and not any(
        p.requires_grad for p in target.neck.parameters())
    assert not any(p.requires_grad for p in target.backbone.parameters())


# --------------------------------------------------------------------------- #
# the contour detector (strict setting): data, a short training, its edges
# --------------------------------------------------------------------------- #
CONTOUR = osp.join(REPO, 'configs/hier_grouping/'
                   'contour-net_r18_1xb8-4k_bsds500-320x320.py')


def test_bsds_boundaries_follow_the_consensus_rule():
    from mmssl_seg.datasets.transforms import LoadBSDSBoundaries
    from mmssl_seg.evaluation.protocols.bsds import read_bsds_ground_truth
    stem, path = bsds_image('train', 0)
    mat = osp.join(BSDS, 'groundTruth', 'train', stem + '.mat')
    label = LoadBSDSBoundaries(eta=0.5)(dict(seg_map_path=mat,
                                             img_path=path))['gt_seg_map']
    votes = np.mean([b > 0 for b in read_bsds_ground_truth(mat)[0]], 0)
    assert (label[votes >= 0.5] == 1).all() and (label[votes == 0] == 0).all()
    assert (label[(votes > 0) & (votes < 0.5)] == 255).all()
    assert 0.005 < (label == 1).mean() < 0.2
    with pytest.raises(FileNotFoundError, match='nothing.mat'):
        LoadBSDSBoundaries()(dict(seg_map_path='/x/nothing.mat'))


def test_contour_net_trains_and_feeds_the_hierarchy_tool(tmp_path):
    needs_bsds()
    work = tmp_path / 'contour'
    result = run_tool(sys.executable, 'tools/train.py', CONTOUR,
                      '--work-dir', str(work), '--cfg-options',
                      'train_cfg.max_iters=2', 'train_dataloader.batch_size=2',
                      'train_dataloader.num_workers=0',
                      'train_dataloader.persistent_workers=False',
                      'default_hooks.checkpoint.interval=2',
                      'default_hooks.logger.interval=1')
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'decode.loss_boundary' in result.stdout
    out = tmp_path / 'hier'
    result = run_tool(sys.executable, 'tools/priors/make_hierarchies.py',
                      str(out), '--images', osp.join(BSDS, 'images', 'val'),
                      '--ids', str(_ids(tmp_path, 'val', 1)), '--edges',
                      'contour_net', '--edge-config', CONTOUR,
                      '--edge-checkpoint', str(work / 'iter_2.pth'),
                      '--workers', '1', '--picture', '1')
    assert result.returncode == 0, result.stdout[-3000:]
    manifest = json.load(open(out / 'manifest.json'))
    assert manifest['params']['detector']['name'] == 'contour_net'
    tree = RegionTree.load(str(out / 'trees' / (bsds_image('val', 0)[0] +
                                                 '.npz')))
    assert tree.leaves.shape in ((321, 481), (481, 321))


def test_class_balanced_boundary_loss_matches_hed_eq_2():
    from mmssl_seg.models.losses import ClassBalancedBoundaryLoss
    torch.manual_seed(0)
    score = torch.randn(2, 2, 3, 4, dtype=torch.float64, requires_grad=True)
    label = torch.tensor([[[0, 1, 255, 0], [0, 0, 0, 1], [1, 0, 0, 255]],
                          [[0, 0, 0, 0], [255, 1, 0, 0], [0, 0, 1, 0]]])
    loss = ClassBalancedBoundaryLoss()(score, label)
    pos = neg = 0
    terms_pos, terms_neg = [], []
    for n in range(2):
        for y in range(3):
            for x in range(4):
                p1 = torch.softmax(score[n, :, y, x], 0)[1]
                if label[n, y, x] == 1:
                    pos += 1
                    terms_pos.append(torch.log(p1))
                elif label[n, y, x] == 0:
                    neg += 1
                    terms_neg.append(torch.log(1 - p1))
    beta = neg / (pos + neg)
    reference = -(beta * sum(terms_pos) +
                  (1 - beta) * sum(terms_neg)) / (pos + neg)
    torch.testing.assert_close(loss, reference)
    torch.testing.assert_close(torch.autograd.grad(loss, score)[0],
                               torch.autograd.grad(reference, score)[0])
    empty = ClassBalancedBoundaryLoss()(score, torch.full_like(label, 255))
    assert empty.item() == 0


def test_exact_matcher_finds_the_maximum_one_to_one_matching():
    """Predicted A reaches annotated X and Y, predicted B only X: matching
    A-X first leaves B alone; the maximum matching pairs A-Y and B-X."""
    from mmssl_seg.evaluation.functional.bsds import exact_match
    pred = np.zeros((40, 40), bool)
    gt = np.zeros((40, 40), bool)
    pred[20, 20] = pred[20, 22] = True  # A, B
    gt[20, 21] = gt[20, 19] = True  # X, Y; radius 1.5 px below
    match_p, match_g = exact_match(pred, gt, max_dist=1.5 / np.hypot(40, 40))
    assert match_p.sum() == match_g.sum() == 2
    far = np.zeros_like(gt)
    far[5, 5] = True
    match_p, match_g = exact_match(pred, far, max_dist=1.5 / np.hypot(40, 40))
    assert match_p.sum() == match_g.sum() == 0
    chain = np.zeros_like(gt)
    chain[20, 21] = True  # both predicted pixels reach only this one
    pred2 = np.zeros_like(pred)
    pred2[20, 20] = pred2[20, 22] = True
    match_p, match_g = exact_match(pred2, chain,
                                   max_dist=1.5 / np.hypot(40, 40))
    assert match_p.sum() == match_g.sum() == 1  # one to one


def test_compiled_matching_is_maximum_on_random_graphs():
    """Hopcroft-Karp against scipy's maximum_bipartite_matching (an
    independent implementation) on random bipartite graphs: same size, a
    valid one-to-one matching along the graph's edges."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    from mmssl_seg.evaluation.functional.boundary_matching import hopcroft_karp
    rng = np.random.default_rng(0)
    for _ in range(200):
        left, right = rng.integers(1, 40, 2)
        adjacency = rng.random((left, right)) < rng.uniform(0.02, 0.3)
        graph = csr_matrix(adjacency.astype(np.int8))
        size = (maximum_bipartite_matching(graph, perm_type='column')
                >= 0).sum()
        partner = hopcroft_karp(graph.indptr.astype(np.int64),
                                graph.indices.astype(np.int64), right)
        matched = np.flatnonzero(partner >= 0)
        assert len(matched) == size
        assert len(set(partner[matched])) == len(matched)
        assert adjacency[matched, partner[matched]].all()


def test_exact_matcher_equals_brute_force_on_boundary_maps():
    """On small random boundary maps the matched count is the largest any
    one-to-one assignment within the radius reaches (brute force over the
    graph with scipy), and matched pixels lie on their own maps."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    from mmssl_seg.evaluation.functional.bsds import exact_match
    rng = np.random.default_rng(1)
    for _ in range(20):
        pred = rng.random((24, 30)) < 0.15
        gt = rng.random((24, 30)) < 0.15
        max_dist = 2.5 / np.hypot(24, 30)
        py, px = np.nonzero(pred)
        gy, gx = np.nonzero(gt)
        near = np.hypot(py[:, None] - gy[None], px[:, None] - gx[None]) <= 2.5
        size = (maximum_bipartite_matching(csr_matrix(near.astype(np.int8)),
                                           perm_type='column') >= 0).sum()
        match_p, match_g = exact_match(pred, gt, max_dist)
        assert match_p.sum() == match_g.sum() == size
        assert not (match_p & ~pred).any() and not (match_g & ~gt).any()


def test_thresholds_with_the_same_map_are_scored_once_and_alike():
    from mmssl_seg.evaluation.functional.bsds import boundary_counts
    from mmssl_seg.evaluation.protocols.bsds import read_bsds_ground_truth
    stem, _ = bsds_image('val', 0)
    boundaries, _ = read_bsds_ground_truth(
        osp.join(BSDS, 'groundTruth', 'val', stem + '.mat'))
    from mmssl_seg.structures import read_ucm2
    strength = read_ucm2(osp.join(BSDS, 'ucm2_gpb', 'val',
                                  stem + '.mat'))[2::2, 2::2]
    thresholds = np.linspace(0.3, 0.9, 13)
    together = boundary_counts(strength, boundaries, thresholds,
                               matcher='exact')
    alone = np.stack([boundary_counts(strength, boundaries, [t],
                                      matcher='exact')[0]
                      for t in thresholds])
    np.testing.assert_array_equal(together, alone)
    assert len({tuple(r) for r in together}) < len(thresholds)  # shared
