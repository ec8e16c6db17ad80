"""Oracle priors (``tools/priors/oracle_priors.py``): a prior folder rebuilt
from the ground truth, the benchmark's prior-level positive control."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PIL import Image

from mmssl_seg.datasets.transforms import LoadAuxLabels, LoadRegionHierarchy
from mmssl_seg.priors.hierarchy import ColourGradientEdges, make_hierarchies
from mmssl_seg.priors.oracle import (
    class_regions,
    oracle_priors,
    oracle_tree,
    oracle_value,
)
from mmssl_seg.structures import RegionTree, prior_path
from tests.conftest import run_tool


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
