"""Structured edge forests trained here: features in the SE toolbox's
layout, the node rules against hand-written references, OpenCV running our
model file exactly as our own inference, the training tool's resume and
refusals (issue 18)."""
from __future__ import annotations

import copy
import glob
import gzip
import json
import os
import os.path as osp
import shutil
import sys

import cv2
import numpy as np
import pytest
from scipy.ndimage import correlate

from mmssl_seg.priors.hierarchy.structured_forest import (
    ForestOptions,
    StructuredForest,
    check_opencv_model,
    edge_rings,
    feature_table,
    grid_positions,
    tri_smooth,
    write_opencv_model,
)
from mmssl_seg.priors.hierarchy.structured_forest_train import (
    TrainOptions,
    best_split,
    discretize,
    first_component,
    leaf_edge_bins,
    merge_small_segments,
    read_annotated,
    train_forest,
)
from mmssl_seg.utils.io import sha256_of
from tests.conftest import DATA_ROOT, REPO, run_tool

BSDS = osp.join(DATA_ROOT, 'bsds500')


def bsds_pairs(split: str, count: int) -> list[tuple[str, str]]:
    if not osp.isdir(BSDS):
        pytest.skip(f'real data not found: {BSDS}')
    images = sorted(glob.glob(osp.join(BSDS, 'images', split, '*.jpg')))
    return [(p, osp.join(BSDS, 'groundTruth', split,
                         osp.basename(p)[:-4] + '.mat'))
            for p in images[:count]]


# --------------------------------------------------------------------------- #
# features
# --------------------------------------------------------------------------- #
def test_feature_ids_follow_the_toolbox_layout():
    opts = ForestOptions()
    assert opts.reg_features == 3328 and opts.sim_features == 3900
    # edgesTrain.m's cell centres: round((1:5) * 19 / 6 - 1), 0-based
    assert grid_positions(opts).tolist() == [1, 4, 8, 11, 14]
    table = feature_table(opts)
    # pixel features: column-major 16 x 16 patches, channel slowest
    assert table[0, :3].tolist() == [0, 0, 0]
    assert table[1, :3].tolist() == [1, 0, 0]
    assert table[16, :3].tolist() == [0, 1, 0]
    assert table[256 * 5 + 16 * 3 + 2, :3].tolist() == [2, 3, 5]
    assert (table[:3328, 3:] == -1).all()
    # self-similarity: cells numbered column-major, pairs (a, b), a < b
    first = table[3328]
    assert first.tolist() == [1, 1, 0, 4, 1, 0]  # cell 0 - cell 1
    assert table[3328 + 4].tolist() == [1, 1, 0, 1, 4, 0]  # cell 0 - cell 5
    assert table[3328 + 299].tolist() == [11, 14, 0, 14, 14, 0]  # 23 - 24
    assert table[3328 + 300].tolist() == [1, 1, 1, 4, 1, 1]  # channel 1


@pytest.mark.parametrize('radius', [1, 4])
def test_triangle_smoothing_is_the_toolbox_kernel(radius):
    rng = np.random.default_rng(0)
    x = rng.random((20, 23, 3)).astype(np.float32)
    if radius == 1:
        kernel = np.array([1, 2, 1]) / 4.0
    else:
        kernel = np.array([1, 2, 3, 4, 5, 4, 3, 2, 1]) / 25.0
    ref = correlate(x.astype(np.float64), kernel[:, None, None], mode='mirror')
    ref = correlate(ref, kernel[None, :, None], mode='mirror')
    np.testing.assert_allclose(tri_smooth(x, radius), ref, atol=1e-6)


# --------------------------------------------------------------------------- #
# node rules
# --------------------------------------------------------------------------- #
def test_best_split_is_the_brute_force_gini_minimum():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 6, (200, 7)).astype(np.uint8)
    labels = ((X[:, 2] >= 3) ^ (rng.random(200) < 0.1)).astype(np.int64)
    idx = np.arange(10, 190)
    feats = np.array([0, 2, 5])
    j, b, g = best_split(X, idx, feats, labels[idx], 8)
    best = (np.inf, None)
    for jj, f in enumerate(feats):
        for bb in range(1, 8):
            left = X[idx, f] < bb
            if left.all() or not left.any():
                continue
            score = 0.0
            for side in (left, ~left):
                p = labels[idx][side].mean()
                score += side.sum() * (1 - p**2 - (1 - p)**2)
            if score < best[0] - 1e-9:
                best = (score, (jj, bb))
    assert (j, b) == best[1]
    assert g == pytest.approx(best[0])
    assert feats[j] == 2  # the informative feature


def test_first_component_is_the_leading_singular_vector():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(300, 12)) * np.linspace(3, 0.5, 12)
    z -= z.mean(0)
    v = first_component(z)
    ref = np.linalg.svd(z, full_matrices=False)[2][0]
    assert abs(abs(v @ ref) - 1) < 1e-6


def test_discretize_is_the_sign_of_the_first_component():
    rng = np.random.default_rng(5)
    w = 16
    vertical = (np.arange(w)[None, :] >= 8).repeat(w, 0)
    horizontal = vertical.T
    segs = []
    for k in range(60):  # two kinds of boundary, shifted
        base = vertical if k % 2 else horizontal
        segs.append(np.roll(base, rng.integers(-2, 3), axis=k % 2))
    segs = np.stack(segs).reshape(60, -1).astype(np.uint8)
    pairs = np.stack(np.triu_indices(w * w, 1), 1)
    opts = TrainOptions()
    idx = np.arange(60)
    classes, rep = discretize(segs, idx, pairs, opts,
                              np.random.default_rng(9))
    # the reference: the same draw, full SVD
    pick = np.random.default_rng(9).choice(len(pairs), opts.pairs,
                                           replace=False)
    z = (segs[:, pairs[pick, 0]] == segs[:, pairs[pick, 1]]).astype(float)
    z -= z.mean(0)
    z = z[:, np.abs(z).max(0) > 0]
    ref = (z @ np.linalg.svd(z, full_matrices=False)[2][0] < 0).astype(int)
    assert (classes == ref).all() or (classes == 1 - ref).all()
    kinds = np.arange(60) % 2
    assert (classes == kinds).all() or (classes == 1 - kinds).all()
    assert rep == int(np.argmin((z * z).sum(1)))
    # identical patches: one class
    same, _ = discretize(np.repeat(segs[:1], 5, 0), np.arange(5), pairs,
                         opts, np.random.default_rng(0))
    assert (same == 0).all()


def test_leaf_edges_are_the_label_gradient_after_small_segments_merge():
    seg = np.zeros((16, 16), np.uint8)
    seg[:, 8:] = 1
    bins = leaf_edge_bins(seg)
    # central differences: columns 7 and 8 on every row, column-major ids
    expected = sorted([c * 16 + r for c in (7, 8) for r in range(16)])
    assert bins.tolist() == expected
    island = seg.copy()
    island[3:5, 2] = 2  # 2 pixels inside segment 0: merged into it
    assert (merge_small_segments(island) == seg).all()
    assert leaf_edge_bins(island).tolist() == expected
    assert len(leaf_edge_bins(np.zeros((16, 16), np.uint8))) == 0


# --------------------------------------------------------------------------- #
# a real forest, OpenCV and our inference
# --------------------------------------------------------------------------- #
@pytest.fixture(scope='module')
def small_forest(tmp_path_factory):
    """Two trees on 8 BSDS train images (a few thousand patches)."""
    data = [read_annotated(i, g) for i, g in bsds_pairs('train', 8)]
    work = str(tmp_path_factory.mktemp('se'))
    opts = ForestOptions(trees=2, trees_eval=2)
    result = train_forest(data, work, opts,
                          TrainOptions(positives=2000, negatives=2000),
                          workers=1)
    assert result['complete']
    return StructuredForest.load(osp.join(work, 'forest.npz')), result[
        'model']


def test_opencv_runs_our_model_file_as_our_inference(small_forest):
    forest, model = small_forest
    info = check_opencv_model(model)
    assert info['trees'] == 2 and info['patchSize'] == 32
    detector = cv2.ximgproc.createStructuredEdgeDetection(model)
    from mmssl_seg.structures import read_bsds_ground_truth
    for image_path, gt_path in bsds_pairs('test', 2):
        rgb = cv2.cvtColor(cv2.imread(image_path),
                           cv2.COLOR_BGR2RGB).astype(np.float32) / 255
        ours = forest.edges(rgb)
        theirs = detector.detectEdges(rgb)
        assert ours.shape == rgb.shape[:2]
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
        # a detector, not noise: edges are stronger on human boundaries
        boundaries, _ = read_bsds_ground_truth(gt_path)
        on = cv2.dilate(np.maximum.reduce(boundaries).astype(np.uint8),
                        np.ones((3, 3), np.uint8)) > 0
        assert ours[on].mean() > 1.5 * ours[~on].mean()  # 1.8 measured


def test_small_image_is_padded_not_a_crash(small_forest):
    from mmssl_seg.priors.hierarchy import StructuredForestEdges
    _, model = small_forest
    detector = StructuredForestEdges(model)
    image = cv2.imread(bsds_pairs('test', 1)[0][0])[100:110, 200:212]
    edges, orientation = detector(image)
    assert edges.shape == orientation.shape == (10, 12)
    assert np.isfinite(edges).all()


def test_model_files_of_the_wrong_kind_are_named(tmp_path, small_forest):
    forest, _ = small_forest
    text = tmp_path / 'notes.yml'
    text.write_text('%YAML:1.0\n---\nsomething: 1\n')
    with pytest.raises(ValueError, match='notes.yml.*missing'):
        check_opencv_model(str(text))
    garbage = tmp_path / 'broken.yml.gz'
    garbage.write_bytes(gzip.compress(b'\x00\x01 not yaml at all {{'))
    with pytest.raises(ValueError, match='broken.yml.gz'):
        check_opencv_model(str(garbage))
    old = tmp_path / 'old.yml.gz'
    write_opencv_model(forest, str(old))
    content = gzip.decompress(old.read_bytes()).replace(
        b'structured_forest/1', b'structured_forest/0')
    old.write_bytes(gzip.compress(content))
    with pytest.raises(ValueError, match='old.yml.gz.*retrain'):
        check_opencv_model(str(old))
    from mmssl_seg.priors.hierarchy import StructuredForestEdges
    with pytest.raises(ValueError, match='notes.yml'):
        StructuredForestEdges(str(text))


def test_tool_resumes_per_tree_and_refuses_other_parameters(tmp_path):
    root = tmp_path / 'bsds'
    for image, gt in bsds_pairs('val', 4):
        for src, kind in ((image, 'images'), (gt, 'groundTruth')):
            os.makedirs(root / kind / 'val', exist_ok=True)
            os.symlink(osp.abspath(src), root / kind / 'val' /
                       osp.basename(src))
    out = tmp_path / 'forest'
    args = [sys.executable, 'tools/priors/train_structured_edges.py',
            str(out), '--bsds', str(root), '--splits', 'val', '--trees', '2',
            '--positives', '300', '--negatives', '300', '--workers', '1']
    first = run_tool(*args, '--shard', '1/2')
    assert first.returncode == 0, first.stdout[-2000:]
    assert osp.isfile(out / 'tree_000.npz')
    assert not osp.exists(out / 'model.yml.gz')  # tree 1 missing
    stamp = os.stat(out / 'tree_000.npz').st_mtime_ns
    second = run_tool(*args, '--shard', '2/2')
    assert second.returncode == 0, second.stdout[-2000:]
    assert os.stat(out / 'tree_000.npz').st_mtime_ns == stamp  # resumed
    assert check_opencv_model(str(out / 'model.yml.gz'))['trees'] == 2
    manifest = json.load(open(out / 'manifest.shard-2-of-2.json'))
    assert manifest['entries']['tree_001']['patches'] > 0
    refused = run_tool(*args[:-2], '--workers', '1', '--seed', '2')
    assert refused.returncode != 0
    assert 'other parameters' in refused.stdout


def test_edge_rings_are_the_toolbox_eBins():
    seg = np.zeros((16, 16), np.uint8)
    seg[:, 8:] = 1
    corner = np.zeros((16, 16), np.uint8)
    corner[:2, :2] = 1
    bounds, bins = edge_rings(np.stack([seg, corner]), 3)
    # ring 0 the label gradient, then one 8-connected step per ring
    for j, cols in enumerate(((7, 8), (6, 9), (5, 10))):
        assert bins[bounds[0, j]:bounds[0, j + 1]].tolist() == sorted(
            c * 16 + r for c in cols for r in range(16))
    # one-sided differences at the border: the 2 x 2 corner block's ring 0
    # lacks its corner pixel (both differences zero), which ring 1 holds
    def ids(pixels):
        return sorted(c * 16 + r for r, c in pixels)

    ring0 = ids([(0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1)])
    ring1 = ids([(0, 0), (2, 2), (0, 3), (1, 3), (2, 3), (3, 0), (3, 1),
                 (3, 2)])
    assert bins[bounds[1, 0]:bounds[1, 1]].tolist() == ring0
    assert bins[bounds[1, 1]:bounds[1, 2]].tolist() == ring1
    assert bounds[1, 0] == bounds[0, 3]


def _triangle(x: np.ndarray) -> np.ndarray:
    """``convTri(x, 1)``: [1 2 1] / 4 both ways, border mirrored."""
    from scipy.ndimage import correlate1d
    k = np.array([1.0, 2.0, 1.0]) / 4
    return correlate1d(correlate1d(x, k, 0, mode='mirror'), k, 1,
                       mode='mirror')


def sharpened_reference(forest: StructuredForest, rgb: np.ndarray,
                        sharpen: int) -> np.ndarray:
    """``edgesDetectMex`` written out loop by loop on 2-D arrays (leaves by
    walking each tree, rings by scipy dilations, colours by scipy)."""
    from scipy.ndimage import binary_dilation

    from mmssl_seg.priors.hierarchy.structured_forest import (
        compute_channels,
        gather_features,
    )
    o = forest.options
    g, pad = o.label_size, o.padding
    reg, sim = compute_channels(rgb, o)
    rows = int(np.ceil((reg.shape[0] * o.shrink - o.patch_size) / o.stride))
    cols = int(np.ceil((reg.shape[1] * o.shrink - o.patch_size) / o.stride))
    big = np.pad(rgb.astype(np.float64), ((pad, pad + g), (pad, pad + g),
                                          (0, 0)), mode='symmetric')
    colour = np.stack([_triangle(big[..., z]) for z in range(3)],
                      -1)[pad:, pad:]
    out = np.zeros(rgb.shape[:2])
    trees = forest.child.shape[0]
    n_eval = min(o.trees_eval, trees)
    scale = {0: 2.0, 1: 1.8, 2: 1.66}[sharpen]
    vote = scale * o.stride**2 / g**2 / o.trees_eval
    square = np.ones((3, 3), bool)
    for i in range(rows):
        for j in range(cols):
            r, c = i * o.stride // o.shrink, j * o.stride // o.shrink
            for k in range(n_eval):
                t = ((i + j) % (2 * n_eval) + k) % trees
                node = 0
                while forest.child[t, node]:
                    v = gather_features(reg, sim, [r], [c],
                                        [forest.fid[t, node]], o)[0, 0]
                    node = forest.child[t, node] - (v < forest.thr[t, node])
                index = forest.seg_index[t, node]
                if index < 0:
                    continue
                seg = forest.segs[index].astype(int).copy()
                patch = colour[i * o.stride:i * o.stride + g,
                               j * o.stride:j * o.stride + g]
                means = {}
                for label in range(seg.max() + 1):
                    chosen = seg[::2, ::2] == label
                    if chosen.any():
                        means[label] = patch[::2, ::2][chosen].mean(0)
                edge = np.gradient(seg.astype(float))
                ring = [np.hypot(*edge) > 0.01]
                while len(ring) < 3:
                    seen = np.logical_or.reduce(ring)
                    ring.append(binary_dilation(ring[-1], square) & ~seen)

                def column_major(mask):
                    return sorted(zip(*np.nonzero(mask)),
                                  key=lambda p: (p[1], p[0]))

                def neighbours(y, x):
                    return [(y, max(x - 1, 0)), (y, min(x + 1, g - 1)),
                            (max(y - 1, 0), x), (min(y + 1, g - 1), x)]

                for y, x in [p for m in ring[:sharpen]
                             for p in column_major(m)]:
                    labels = [seg[p] for p in neighbours(y, x)]
                    errors = [np.sum((means[a] - patch[y, x])**2)
                              if a in means else np.inf for a in labels]
                    seg[y, x] = labels[int(np.argmin(errors))]
                for y, x in [p for m in ring[:sharpen + 1]
                             for p in column_major(m)]:
                    yy, xx = i * o.stride + y, j * o.stride + x
                    if (any(seg[p] != seg[y, x] for p in neighbours(y, x))
                            and yy < out.shape[0] and xx < out.shape[1]):
                        out[yy, xx] += vote
    return _triangle(out)


def test_sharpening_is_the_toolbox_loop(small_forest):
    """Our compiled sharpening against the loop written out, on a real
    image crop that reaches the image border; sharpened boundaries are
    thinner and sit more on the annotators' boundaries."""
    forest, _ = small_forest
    image, gt_path = bsds_pairs('test', 1)[0]
    rgb = cv2.cvtColor(cv2.imread(image),
                       cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    crop = rgb[-44:, -52:]
    plain = forest.edges(crop)
    np.testing.assert_allclose(sharpened_reference(forest, crop, 0), plain,
                               atol=1e-5)
    for sharpen in (1, 2):
        ours = forest.edges(crop, sharpen=sharpen)
        np.testing.assert_allclose(
            ours, sharpened_reference(forest, crop, sharpen), atol=1e-5)
        assert np.abs(ours - plain).max() > 0.05  # it did something
    from mmssl_seg.structures import read_bsds_ground_truth
    boundaries, _ = read_bsds_ground_truth(gt_path)
    on = cv2.dilate(np.maximum.reduce(boundaries).astype(np.uint8),
                    np.ones((3, 3), np.uint8)) > 0
    full, sharp = forest.edges(rgb), forest.edges(rgb, sharpen=2)
    assert (sharp[on].mean() / sharp[~on].mean() >
            full[on].mean() / full[~on].mean())
    # the archive keeps the segmentations; a forest without them says why
    assert forest.segs.shape[1:] == (16, 16) and forest.segs.max() > 0
    bare = StructuredForest(forest.options, forest.child, forest.fid,
                            forest.thr, forest.bounds, forest.bins)
    with pytest.raises(ValueError, match='forest.npz'):
        bare.edges(crop, sharpen=2)


def test_edge_thinning_is_opencvs_edges_nms(small_forest):
    from mmssl_seg.priors.hierarchy.edges import thin_edges
    _, model = small_forest
    detector = cv2.ximgproc.createStructuredEdgeDetection(model)
    rgb = cv2.cvtColor(cv2.imread(bsds_pairs('test', 1)[0][0]),
                       cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    edges = detector.detectEdges(rgb)
    orientation = detector.computeOrientation(edges)
    for r, s, m in ((1, 5, 1.01), (2, 0, 1.0)):
        ours = thin_edges(edges, orientation, r, s, m)
        theirs = detector.edgesNms(edges, orientation, r=r, s=s, m=m)
        assert (ours > 0).sum() < 0.5 * (edges > 0).sum()  # thinned
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_edge_maps_of_a_forest_are_scored_by_the_edge_benchmark(
        tmp_path, small_forest):
    """make_hierarchies --save-edges writes thinned SE edges; the benchmark
    of edge maps scores them above the same maps given to the wrong images
    (a control that keeps every statistic but the alignment)."""
    _, model = small_forest
    pairs = bsds_pairs('test', 3)
    images = tmp_path / 'images'
    images.mkdir()
    for image, _ in pairs:
        os.symlink(osp.abspath(image), images / osp.basename(image))
    out = tmp_path / 'hier'
    made = run_tool(sys.executable, 'tools/priors/make_hierarchies.py',
                    str(out), '--images', str(images), '--edges',
                    'structured_forest', '--edge-model', model,
                    '--save-edges', '--workers', '1', '--picture', '0')
    assert made.returncode == 0, made.stdout[-2000:]
    stems = sorted(osp.basename(i)[:-4] for i, _ in pairs)
    assert sorted(f[:-4] for f in os.listdir(out / 'edges')) == stems
    gt_dir = osp.join(BSDS, 'groundTruth', 'test')
    args = ['--gt-dir', gt_dir, '--thresholds', '9', '--matcher', 'exact',
            '--workers', '1']
    scored = run_tool(sys.executable, 'tools/eval/bsds_benchmark.py',
                      str(out / 'edges'), '--edges', *args)
    assert scored.returncode == 0, scored.stdout[-2000:]
    report = json.load(open(out / 'bsds_edges.json'))
    assert report['images'] == 3
    # the control: each edge map under the next image's name (same shape)
    wrong = tmp_path / 'wrong'
    wrong.mkdir()
    shapes = {s: cv2.imread(str(out / 'edges' / f'{s}.png')).shape
              for s in stems}
    moved = 0
    for a, b in zip(stems, stems[1:] + stems[:1]):
        if shapes[a] == shapes[b]:
            os.symlink(out / 'edges' / f'{a}.png', wrong / f'{b}.png')
            moved += 1
    assert moved >= 2
    control = run_tool(sys.executable, 'tools/eval/bsds_benchmark.py',
                       str(wrong), '--edges', *args, '--out-dir',
                       str(tmp_path))
    assert control.returncode == 0, control.stdout[-2000:]
    shuffled = json.load(open(tmp_path / 'bsds_edges.json'))
    assert report['ODS'] > shuffled['ODS'] + 0.1


def test_the_tools_default_is_structured_edges_with_spectral(tmp_path):
    """make_hierarchies.py without --edges runs the paper's primitive: the
    packaged forest plus 0.1 sPb, at three scales (SE-MS), sharpened as the
    SE toolbox does by default, through OWT-UCM, recorded by name and
    content (not by the cache path, which differs between machines); a
    --edge-model that does not exist stops it before anything is written,
    naming the command that trains one there."""
    from mmssl_seg.priors.hierarchy.packaged import packaged_forest_entry
    image = bsds_pairs('test', 1)[0][0]
    images = tmp_path / 'images'
    images.mkdir()
    os.symlink(osp.abspath(image), images / osp.basename(image))
    argv = (sys.executable, osp.join(REPO, 'tools/priors/make_hierarchies.py'),
            'hier', '--images', str(images), '--workers', '1', '--picture',
            '0')
    missing = run_tool(*argv, '--edge-model', 'forests/model.yml.gz',
                       cwd=str(tmp_path))
    assert missing.returncode != 0
    assert 'forests/model.yml.gz does not exist' in missing.stdout, (
        missing.stdout[-2000:])
    assert 'python tools/priors/train_structured_edges.py forests\n' in (
        missing.stdout)
    assert not (tmp_path / 'hier').exists()
    made = run_tool(*argv, cwd=str(tmp_path))
    assert made.returncode == 0, made.stdout[-2000:]
    entry = packaged_forest_entry()
    manifest = json.load(open(tmp_path / 'hier' / 'manifest.json'))
    assert manifest['params']['detector'] == {
        'name': 'spectral', 'weight': 0.1, 'size': 96,
        'edges': {'name': 'structured_forest',
                  'model': 'packaged:structured-edges_8trees_bsds500',
                  'sha256': entry['OpenCV Model SHA256'] + ':' +
                  entry['SHA256'],
                  'multiscale': True, 'sharpen': 2}}  # the SE toolbox's
    assert manifest['params']['arcs'] == 'owt'  # the paper's OWT-UCM


def test_the_packaged_forest_is_the_trainers_default_forest(tmp_path):
    """The shipped forest (issue 56): at most 10 MB, the bytes its metafile
    lists, trained with the metafile's command (the tool's defaults: the SE
    paper's 8 trees, 5e5 + 5e5 patches, seed 1); its OpenCV file is rebuilt
    once into the cache, byte for byte the trainer's, and rebuilt again
    when damaged; OpenCV runs it as our inference does, and its edges
    follow the human boundaries of a BSDS test image."""
    from mmssl_seg.priors.hierarchy import packaged
    entry = packaged.packaged_forest_entry()
    archive = osp.join(packaged.MODEL_DIR, entry['Weights'])
    assert os.path.getsize(archive) <= 10 * 2**20
    assert sha256_of(archive) == entry['SHA256']
    command = entry['Metadata']['Training Command'].split()
    assert command[:2] == ['python', 'tools/priors/train_structured_edges.py']
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(REPO, command[1]))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    args = tool.parse_args(command[2:])
    forest = StructuredForest.load(archive)
    assert forest.child.shape[0] == args.trees == 8
    assert forest.options == ForestOptions(trees=args.trees)
    assert {k: forest.provenance[k] for k in ('positives', 'negatives',
                                              'seed')} == {
        'positives': str(args.positives), 'negatives': str(args.negatives),
        'seed': str(args.seed)} == {'positives': '500000',
                                    'negatives': '500000', 'seed': '1'}
    assert forest.provenance['data'] == 'BSDS500 train+val (300 images)'

    model = packaged.packaged_forest(str(tmp_path))
    assert sha256_of(model) == entry['OpenCV Model SHA256']
    assert sha256_of(osp.join(osp.dirname(model), 'forest.npz')) == entry[
        'SHA256']
    stamp = os.stat(model).st_mtime_ns
    assert packaged.packaged_forest(str(tmp_path)) == model
    assert os.stat(model).st_mtime_ns == stamp  # built once
    with open(model, 'r+b') as f:
        f.truncate(1000)
    packaged.packaged_forest(str(tmp_path))
    assert sha256_of(model) == entry['OpenCV Model SHA256']  # rebuilt

    detector = cv2.ximgproc.createStructuredEdgeDetection(model)
    from mmssl_seg.structures import read_bsds_ground_truth
    image_path, gt_path = bsds_pairs('test', 1)[0]
    rgb = cv2.cvtColor(cv2.imread(image_path),
                       cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    ours = forest.edges(rgb)
    np.testing.assert_allclose(ours, detector.detectEdges(rgb), atol=1e-6)
    boundaries, _ = read_bsds_ground_truth(gt_path)
    on = cv2.dilate(np.maximum.reduce(boundaries).astype(np.uint8),
                    np.ones((3, 3), np.uint8)) > 0
    assert ours[on].mean() > 3 * ours[~on].mean()


def test_a_damaged_packaged_forest_is_named(tmp_path, monkeypatch):
    from mmssl_seg.priors.hierarchy import packaged
    models = tmp_path / 'models'
    shutil.copytree(packaged.MODEL_DIR, models)
    entry = packaged.packaged_forest_entry()
    with open(models / entry['Weights'], 'r+b') as f:
        f.seek(5000)
        f.write(b'\x00' * 8)
    monkeypatch.setattr(packaged, 'MODEL_DIR', str(models))
    with pytest.raises(packaged.DamagedModelError,
                       match=f'{entry["Weights"]} is damaged.*reinstall'):
        packaged.packaged_forest(str(tmp_path / 'cache'))
    assert not (tmp_path / 'cache').exists()


def test_training_is_deterministic_to_the_byte(tmp_path, small_forest):
    """The same parameters write the same forest and model files (the gzip
    header holds no time and no temporary name), so a shipped forest can be
    checked against its command; a model file rebuilt from the archive is
    the trainer's."""
    _, model = small_forest
    data = [read_annotated(i, g) for i, g in bsds_pairs('train', 8)]
    again = train_forest(data, str(tmp_path), ForestOptions(trees=2,
                                                            trees_eval=2),
                         TrainOptions(positives=2000, negatives=2000),
                         workers=1)
    for name in ('forest.npz', 'model.yml.gz'):
        assert sha256_of(str(tmp_path / name)) == sha256_of(
            osp.join(osp.dirname(model), name)), name
    rebuilt = str(tmp_path / 'rebuilt.yml.gz')
    write_opencv_model(StructuredForest.load(str(tmp_path / 'forest.npz')),
                       rebuilt)
    assert sha256_of(rebuilt) == sha256_of(again['model'])


# --------------------------------------------------------------------------- #
# the spectral signal
# --------------------------------------------------------------------------- #
def dense_spectral(edges: np.ndarray, vectors: int, radius: int,
                   rho: float) -> np.ndarray:
    """sPb by hand: every pixel pair within ``radius``, the segment's
    pixels by rounding, the generalised eigenproblem solved densely."""
    from scipy.linalg import eigh
    h, w = edges.shape
    n = h * w
    W = np.eye(n)
    for y in range(h):
        for x in range(w):
            for yy in range(h):
                for xx in range(w):
                    dy, dx = yy - y, xx - x
                    if (dy, dx) == (0, 0) or dy * dy + dx * dx > radius**2:
                        continue
                    steps = max(abs(dy), abs(dx))
                    peak = max(edges[int(np.round(y + dy * s / steps)),
                                     int(np.round(x + dx * s / steps))]
                               for s in range(steps + 1))
                    W[y * w + x, yy * w + xx] = np.exp(-peak / rho)
    D = np.diag(W.sum(1))
    lams, V = eigh(D - W, D)
    out = np.zeros((h, w))
    for k in range(1, vectors + 1):
        v = V[:, k].reshape(h, w)
        v = v / np.abs(v).max()
        gy, gx = np.gradient(v)
        out += np.hypot(gx, gy) / np.sqrt(lams[k])
    return out / out.max()


def test_spectral_boundaries_match_the_dense_generalised_eigenproblem():
    from mmssl_seg.priors.hierarchy.spectral import spectral_boundaries
    rng = np.random.default_rng(0)
    edges = rng.random((9, 11)) * 0.1
    edges[:, 5] = 0.9  # a wall: the first eigenvector splits left / right
    edges[4, 5] = 0.3
    ours = spectral_boundaries(edges, vectors=3, radius=2, rho=0.1,
                               max_side=64)
    ref = dense_spectral(edges, 3, 2, 0.1)
    np.testing.assert_allclose(ours, ref, atol=1e-4)
    assert ours[:, 4:7].mean() > 2 * ours[:, :3].mean()


def test_spectral_boundaries_of_a_real_image_follow_its_boundaries():
    from mmssl_seg.priors.hierarchy import ColourGradientEdges
    from mmssl_seg.priors.hierarchy.spectral import spectral_boundaries
    from mmssl_seg.structures import read_bsds_ground_truth
    image_path, gt_path = bsds_pairs('val', 1)[0]
    edges, _ = ColourGradientEdges()(cv2.imread(image_path))
    spb = spectral_boundaries(edges)
    assert spb.shape == edges.shape and spb.max() == pytest.approx(1.0)
    boundaries, _ = read_bsds_ground_truth(gt_path)
    on = cv2.dilate(np.maximum.reduce(boundaries).astype(np.uint8),
                    np.ones((5, 5), np.uint8)) > 0
    assert spb[on].mean() > 1.5 * spb[~on].mean()


def test_multiscale_and_spectral_options_are_recorded_and_change_edges(
        tmp_path, small_forest):
    from mmssl_seg.priors.hierarchy import (
        SpectralEdges,
        StructuredForestEdges,
    )
    from mmssl_seg.priors.hierarchy.spectral import spectral_boundaries
    _, model = small_forest
    image = cv2.imread(bsds_pairs('test', 1)[0][0])
    single = StructuredForestEdges(model)
    multi = StructuredForestEdges(model, multiscale=True)
    e1, _ = single(image)
    e3, o3 = multi(image)
    assert e3.shape == o3.shape == image.shape[:2]
    assert multi.params['multiscale'] and not single.params['multiscale']
    # the average of three scales: not the single scale, close to it
    assert 0 < np.abs(e3 - e1).mean() < e1.mean()
    combined = SpectralEdges(single, 0.25)
    ec, _ = combined(image)
    np.testing.assert_allclose(
        ec, 0.75 * e1 + 0.25 * spectral_boundaries(e1), atol=1e-6)
    assert combined.params['edges'] == single.params
    coarse = SpectralEdges(single, 0.25, size=64)
    np.testing.assert_allclose(
        coarse(image)[0],
        0.75 * e1 + 0.25 * spectral_boundaries(e1, max_side=64), atol=1e-6)
    assert np.abs(coarse(image)[0] - ec).max() > 0.01
    assert coarse.params['size'] == 64 and 'size' not in combined.params
    with pytest.raises(ValueError, match='spectral weight'):
        SpectralEdges(single, 0.0)
    # sharpening runs our inference on the archive beside the model
    forest = StructuredForest.load(osp.join(osp.dirname(model),
                                            'forest.npz'))
    sharp = StructuredForestEdges(model, sharpen=2)
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    np.testing.assert_array_equal(sharp(image)[0], forest.edges(rgb, 2))
    assert sharp.params['sharpen'] == 2 and 'sharpen' not in single.params
    alone = osp.join(str(tmp_path), 'model.yml.gz')
    shutil.copy(model, alone)
    with pytest.raises(FileNotFoundError, match='forest.npz'):
        StructuredForestEdges(alone, sharpen=2)
    bare = StructuredForest(forest.options, forest.child, forest.fid,
                            forest.thr, forest.bounds, forest.bins)
    bare.save(osp.join(str(tmp_path), 'forest.npz'))
    with pytest.raises(ValueError, match='predates sharpening.*rerun'):
        StructuredForestEdges(alone, sharpen=2)


def test_a_forest_retrained_in_place_is_refused(tmp_path, small_forest):
    """The folder records the forest by content: a rerun after the model
    file changed (retrained at the same path) is refused instead of mixing
    trees of two detectors."""
    from mmssl_seg.priors.hierarchy import (
        StructuredForestEdges,
        make_hierarchies,
    )
    from mmssl_seg.priors.hierarchy.structured_forest import (
        write_opencv_model,
    )
    from mmssl_seg.utils.errors import ParameterMismatchError
    forest, model = small_forest
    path = str(tmp_path / 'model.yml.gz')
    shutil.copy(model, path)
    image = bsds_pairs('test', 1)[0][0]
    images = [(osp.splitext(osp.basename(image))[0], image)]
    out = str(tmp_path / 'hier')
    make_hierarchies(images, out, StructuredForestEdges(path), workers=1)
    retrained = copy.copy(forest)  # the fixture's forest stays as it was
    retrained.thr = forest.thr + 0.01
    write_opencv_model(retrained, path)
    with pytest.raises(ParameterMismatchError, match='other parameters'):
        make_hierarchies(images, out, StructuredForestEdges(path), workers=1)
