"""Oracle priors (``tools/priors/oracle_priors.py``): a prior folder rebuilt
from the ground truth, the benchmark's prior-level positive control."""
from __future__ import annotations

import json
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from mmssl_seg.datasets.transforms import LoadAuxLabels, LoadRegionHierarchy
from mmssl_seg.priors.folders import LABEL_MAPS, read_prior
from mmssl_seg.priors.hierarchy import ColourGradientEdges, make_hierarchies
from mmssl_seg.priors.hierarchy.generate import hierarchy
from mmssl_seg.priors.oracle import (
    cap_leaves,
    class_regions,
    fill_unlabelled,
    oracle_priors,
    oracle_tree,
    oracle_value,
)
from mmssl_seg.structures import MAX_LEAVES, RegionTree, prior_path
from tests.conftest import VOC12_MINI, needs_voc12_mini, run_tool


def _pair_altitudes(tree: RegionTree, pixels: np.ndarray) -> np.ndarray:
    """d_T (altitude) between every two of ``pixels`` (flat indices)."""
    leaves = tree.leaves.ravel()[pixels]
    return tree.distances('altitude')[np.ix_(leaves, leaves)]


def _expected(source: RegionTree, classes: np.ndarray,
              pixels: np.ndarray) -> np.ndarray:
    """The oracle's d_T by hand, pixel pair by pixel pair: the source's
    within one ground-truth region (a 4-connected patch of one class,
    found by flood fill here), 1 across two."""
    h, w = classes.shape
    region = -np.ones(classes.shape, np.int64)
    count = 0
    for start in zip(*np.nonzero(classes >= 0)):
        if region[start] >= 0:
            continue
        stack = [start]
        region[start] = count
        while stack:
            y, x = stack.pop()
            for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if (0 <= ny < h and 0 <= nx < w and region[ny, nx] < 0
                        and classes[ny, nx] == classes[y, x]):
                    region[ny, nx] = count
                    stack.append((ny, nx))
        count += 1
    regions = region.ravel()[pixels]
    same = regions[:, None] == regions[None, :]
    return np.where(same, _pair_altitudes(source, pixels), 1.0)


def test_oracle_tree_by_hand():
    # leaves 0 | 1 | 2 in columns; (0, 1) merge at 0.3, the root at 0.6.
    # Classes: 0 on the left half, 1 on the right half, and in the bottom
    # row a class-1 and a class-0 pixel that touch their class only at a
    # corner: regions of their own (4-neighbourhood, like the watershed's
    # pixel graph).
    tree = RegionTree(np.array([[0, 1, 1, 2]] * 3, np.uint8),
                      np.array([3, 3, 4, 4, 4]),
                      np.array([0, 0, 0, .3, .6], np.float32))
    classes = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 1, 0, 1]])
    assert class_regions(classes).tolist() == [[0, 0, 2, 2], [0, 0, 2, 2],
                                               [0, 3, 1, 2]]
    oracle = oracle_tree(tree, classes)
    pixels = np.arange(classes.size)
    assert np.allclose(_pair_altitudes(oracle, pixels),
                       _expected(tree, classes, pixels))
    # leaf 1 is split into the four regions it touches: 6 leaves
    assert oracle.num_leaves == 6
    # the regions merge last: every cross-region pair at the top level
    levels = oracle.distances('level')
    leaves = oracle.leaves.ravel()
    regions = class_regions(classes).ravel()
    across = regions[:, None] != regions[None, :]
    assert np.all(levels[np.ix_(leaves, leaves)][across] == levels.max())
    assert np.all(levels[np.ix_(leaves, leaves)][~across] < levels.max())


def test_unlabelled_bands_take_the_nearest_class_by_hand():
    # a 2-pixel band between classes 0 and 1 and a 255 hole inside class 1
    classes = np.array([[0, 0, 255, 255, 1, 1],
                        [0, 0, 255, 255, 1, 1],
                        [0, 0, 255, 255, 1, 255],
                        [0, 0, 255, 255, 1, 1]], np.uint8)
    filled = [[0, 0, 0, 1, 1, 1]] * 4
    assert fill_unlabelled(classes).tolist() == filled
    # the band is no region of its own: two regions, split mid-band
    tree = RegionTree(np.array([[0, 0, 0, 1, 1, 2]] * 4, np.uint8),
                      np.array([3, 3, 4, 4, 4]),
                      np.array([0, 0, 0, .3, .6], np.float32))
    oracle = oracle_tree(tree, classes)
    pixels = np.arange(classes.size)
    assert np.allclose(_pair_altitudes(oracle, pixels),
                       _expected(tree, np.array(filled), pixels))
    # no labelled pixel: one region, the source's distances
    nothing = np.full((4, 6), 255, np.uint8)
    assert np.array_equal(fill_unlabelled(nothing), nothing)
    assert np.allclose(_pair_altitudes(oracle_tree(tree, nothing), pixels),
                       _pair_altitudes(tree, pixels))


def test_cap_leaves_merges_the_smallest_into_their_regions_largest():
    # leaf areas 5, 1, 3, 2, 2; regions 0, 0, 1, 1, 0
    leaves = np.array([0] * 5 + [1] + [2] * 3 + [3] * 2 + [4] * 2)
    region = np.array([0, 0, 1, 1, 0])
    # keep 3: leaf 1 (area 1) joins leaf 0, then of the area-2 leaves the
    # first, leaf 3, joins leaf 2 (its region's largest)
    merged, kept = cap_leaves(leaves, region, limit=3)
    assert kept.tolist() == [0, 2, 4]
    assert merged.tolist() == [0] * 5 + [0] + [1] * 3 + [1] * 2 + [2] * 2
    same, kept = cap_leaves(leaves, region, limit=5)
    assert same.tolist() == leaves.tolist() and kept.tolist() == [0, 1, 2,
                                                                   3, 4]
    with pytest.raises(ValueError, match='2 ground-truth regions'):
        cap_leaves(leaves, region, limit=1)


def test_oracle_tree_caps_its_leaves_and_keeps_the_regions_apart():
    # 40 column leaves x 10 row bands of alternating classes: 400 pieces
    # (a caterpillar: leaf j joins leaves 0..j-1 at altitude j / 40)
    merge = np.maximum.outer(np.arange(40), np.arange(40)) / 40
    np.fill_diagonal(merge, 0)
    tree = RegionTree.from_ultrametric(
        np.tile(np.arange(40), (40, 1)), merge)
    classes = np.repeat(np.arange(10) % 2, 4)[:, None].repeat(40, 1)
    oracle = oracle_tree(tree, classes)
    assert oracle.num_leaves == MAX_LEAVES
    regions = class_regions(classes).ravel()
    levels = oracle.distances('level')[np.ix_(oracle.leaves.ravel(),
                                              oracle.leaves.ravel())]
    across = regions[:, None] != regions[None, :]
    assert np.all(levels[across] == levels.max())
    assert np.all(levels[~across] < levels.max())


def test_oracle_tree_on_a_real_voc_image_with_border_bands():
    """2007_002227 (66 ground-truth regions): as regions of their own its
    255 bands cut a 40-leaf tree into more pieces than a tree stores;
    filled by the nearest labelled pixel (a brute-force reference, ties
    allowed) they do not, and d_T is the hand reference's."""
    needs_voc12_mini()
    stem = '2007_002227'
    image = cv2.imread(f'{VOC12_MINI}/JPEGImages/{stem}.jpg')
    classes = read_prior(f'{VOC12_MINI}/SegmentationClass/{stem}.png',
                         LABEL_MAPS)
    tree, _ = hierarchy(image, ColourGradientEdges())
    raw = class_regions(classes)
    assert len(np.unique(tree.leaves.astype(np.int64) * (raw.max() + 1) +
                         raw)) > MAX_LEAVES
    filled = fill_unlabelled(classes)
    labelled = classes != 255
    assert np.array_equal(filled[labelled], classes[labelled])
    rng = np.random.default_rng(0)
    band = np.argwhere(~labelled)
    sources = np.argwhere(labelled)
    for y, x in band[rng.choice(len(band), 100, replace=False)]:
        d2 = ((sources - (y, x))**2).sum(1)
        nearest = sources[d2 == d2.min()]
        assert filled[y, x] in classes[nearest[:, 0], nearest[:, 1]]
    oracle = oracle_tree(tree, classes)
    assert oracle.num_leaves <= MAX_LEAVES
    pixels = rng.choice(classes.size, 300, replace=False)
    assert np.allclose(_pair_altitudes(oracle, pixels),
                       _expected(tree, filled, pixels))


def test_oracle_maps_by_hand():
    classes = np.array([[0, 3, 255], [7, 0, 0]], np.uint8)
    empty = np.zeros((2, 3), np.uint8)
    assert oracle_value('aux_labels', empty, classes).tolist() == \
        classes.tolist()
    assert oracle_value('saliency_mask', empty, classes).tolist() == [
        [0, 255, 0], [255, 0, 0]]
    # resized to the prior file's own size, by nearest neighbour
    assert oracle_value('aux_labels', np.zeros((4, 6), np.uint8),
                        classes)[::2, ::2].tolist() == classes.tolist()
    with pytest.raises(ValueError, match='no oracle'):
        oracle_value('superpixels', empty, classes)


def test_oracle_folders_on_real_mosaics(tmp_path, small_mosaics):
    """Trees and auxiliary labels of real mosaics through the CLI: the
    trees' d_T is the hand reference's on sampled pixel pairs, the labels
    are the class maps, the superpixels the source's, and both folders load
    for their images."""
    root = small_mosaics
    gt_dir = root / 'annotations' / 'train'
    ids = (root / 'train.txt').read_text().split()
    images = [(i, str(root / 'images' / 'train' / f'{i}.jpg')) for i in ids]
    trees = tmp_path / 'trees'
    make_hierarchies(images, str(trees), ColourGradientEdges())
    # an auxiliary-label folder in make_aux_labels.py's layout
    aux = tmp_path / 'aux'
    (aux / 'labels').mkdir(parents=True)
    (aux / 'superpixels').mkdir()
    (aux / 'params.json').write_text(json.dumps(
        {'tool': 'make_aux_labels', 'params': {'k': 9}}))
    rng = np.random.default_rng(0)
    for stem, _ in images:
        for kind in ('labels', 'superpixels'):
            Image.fromarray(rng.integers(0, 9, (64, 64), dtype=np.uint8)
                            ).save(aux / kind / f'{stem}.png')
    for src in (trees, aux):
        result = run_tool(sys.executable, 'tools/priors/oracle_priors.py',
                          str(src), str(gt_dir), f'{src}_oracle')
        assert result.returncode == 0, result.stdout[-2000:]
    pixels = rng.choice(64 * 64, 300, replace=False)
    for stem, path in images:
        classes = np.array(Image.open(gt_dir / f'{stem}.png'))
        source = RegionTree.load(prior_path(str(trees), 'region_tree', stem))
        oracle = RegionTree.load(
            prior_path(f'{trees}_oracle', 'region_tree', stem))
        assert np.allclose(_pair_altitudes(oracle, pixels),
                           _expected(source, classes, pixels))
        labels = np.array(Image.open(tmp_path / 'aux_oracle' / 'labels' /
                                     f'{stem}.png'))
        assert np.array_equal(labels, classes)
        assert ((tmp_path / 'aux_oracle' / 'superpixels' /
                 f'{stem}.png').read_bytes() ==
                (aux / 'superpixels' / f'{stem}.png').read_bytes())
        assert LoadRegionHierarchy(f'{trees}_oracle').check_prior(
            path, (64, 64)) is None
        assert LoadAuxLabels(f'{tmp_path}/aux_oracle').check_prior(
            path, (64, 64)) is None
    assert (tmp_path / 'trees_oracle' / 'ids.txt').read_text() == \
        (trees / 'ids.txt').read_text()

    # another ground truth into the same folder is refused, never mixed
    other = tmp_path / 'other_gt'
    other.mkdir()
    for stem, _ in images:
        Image.open(gt_dir / f'{stem}.png').save(other / f'{stem}.png')
    with pytest.raises(ValueError, match='other parameters'):
        oracle_priors(str(trees), str(other), f'{trees}_oracle')
    # a missing class map is named before anything is written
    (other / f'{ids[0]}.png').unlink()
    with pytest.raises(FileNotFoundError, match=ids[0]):
        oracle_priors(str(trees), str(other), str(tmp_path / 'none'))
    assert not (tmp_path / 'none').exists()
    # Mix-and-Match's prior is the labels: no oracle
    with pytest.raises(ValueError, match='no oracle'):
        oracle_priors(str(gt_dir), str(gt_dir), str(tmp_path / 'none'))
