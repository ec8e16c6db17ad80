"""Negative-control priors (``tools/priors/shuffle_priors.py``): each image
gets another image's prior, resized to its own size; trees stay trees."""
from __future__ import annotations

import json
import os.path as osp
import shutil
import sys

import numpy as np
import pytest
from PIL import Image

from mmssl_seg.datasets.transforms import LoadRegionHierarchy, LoadSaliencyMask
from mmssl_seg.priors.folders import resize_nearest
from mmssl_seg.priors.hierarchy import ColourGradientEdges, make_hierarchies
from mmssl_seg.priors.saliency import make_saliency
from mmssl_seg.priors.shuffle import derangement, restrict_tree, shuffle_priors
from mmssl_seg.structures import RegionTree, prior_path
from tests.conftest import VOC12_MINI, needs_voc12_mini, run_tool


def _stems(count: int) -> list[str]:
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()
    return sorted(ids[:count])


def _image(stem: str) -> str:
    return osp.join(VOC12_MINI, 'JPEGImages', stem + '.jpg')


def _pil_nearest(value: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The reference resize: PIL's NEAREST."""
    return np.array(Image.fromarray(value).resize(shape[::-1],
                                                  Image.NEAREST))


@pytest.mark.parametrize('n', [2, 3, 10, 57])
def test_derangement_moves_everyone_and_is_seeded(n):
    for seed in range(20):
        perm = derangement(n, seed)
        assert sorted(perm) == list(range(n))
        assert not np.any(perm == np.arange(n))
        assert np.array_equal(perm, derangement(n, seed))
    if n > 3:
        assert not np.array_equal(derangement(n, 0), derangement(n, 1))
    with pytest.raises(ValueError, match='at least 2'):
        derangement(1, 0)


def test_resize_nearest_is_pil_nearest():
    rng = np.random.default_rng(0)
    value = rng.integers(0, 255, (37, 53), dtype=np.uint8)
    for shape in ((37, 53), (20, 71), (100, 13), (5, 5)):
        assert np.array_equal(resize_nearest(value, shape),
                              _pil_nearest(value, shape))


def test_restricted_tree_keeps_d_t_between_surviving_leaves():
    # ((0, 1) at 0.2, (2, 3) at 0.5) merged at 0.9
    tree = RegionTree(np.array([[0, 1], [2, 3]], np.uint8),
                      np.array([4, 4, 5, 5, 6, 6, 6]),
                      np.array([0, 0, 0, 0, .2, .5, .9], np.float32))
    restricted = restrict_tree(tree, np.array([[0, 0], [2, 3]]))
    assert restricted.num_leaves == 3
    assert np.array_equal(restricted.leaves, [[0, 0], [1, 2]])
    expected = tree.distances()[np.ix_([0, 2, 3], [0, 2, 3])]
    assert np.allclose(restricted.distances(), expected)
    # levels re-rank the merges that remain: (2, 3) first, then the root
    assert np.allclose(restricted.distances('level'),
                       [[0, 2, 2], [2, 0, 1], [2, 1, 0]])
    whole = restrict_tree(tree, tree.leaves)  # nothing lost: unchanged
    assert np.array_equal(whole.parents, tree.parents)


def test_label_maps_come_from_a_donor_resized(tmp_path):
    needs_voc12_mini()
    src, dst = tmp_path / 'labels', tmp_path / 'shuffled'
    src.mkdir()
    stems = _stems(5)
    for stem in stems:
        shutil.copy(osp.join(VOC12_MINI, 'SegmentationClass', stem + '.png'),
                    src)
    result = shuffle_priors(str(src), str(dst), seed=3)
    assert result['complete'] and not result['failed']
    donors = {s: e['donor'] for s, e in result['entries'].items()}
    assert sorted(donors) == stems and sorted(donors.values()) == stems
    for stem, donor in donors.items():
        assert donor != stem
        own = np.array(Image.open(src / f'{stem}.png'))
        out = np.array(Image.open(dst / f'{stem}.png'))
        assert np.array_equal(out, _pil_nearest(
            np.array(Image.open(src / f'{donor}.png')), own.shape))

    # a stopped run is completed identically; another seed is refused
    (dst / f'{stems[0]}.png').unlink()
    shuffle_priors(str(src), str(dst), seed=3)
    assert np.array_equal(
        np.array(Image.open(dst / f'{stems[0]}.png')),
        _pil_nearest(np.array(Image.open(src / f'{donors[stems[0]]}.png')),
                     np.array(Image.open(src / f'{stems[0]}.png')).shape))
    with pytest.raises(ValueError, match='other parameters'):
        shuffle_priors(str(src), str(dst), seed=4)

    # shards cover everything with the same donors
    sharded = tmp_path / 'sharded'
    shuffle_priors(str(src), str(sharded), seed=3, shard_spec=(1, 2))
    merged = shuffle_priors(str(src), str(sharded), seed=3,
                            shard_spec=(2, 2))
    assert merged['complete']
    assert {s: e['donor'] for s, e in merged['entries'].items()} == donors

    # --ids: those images only, donors among them; an unknown one is named
    ids = tmp_path / 'ids.txt'
    ids.write_text('\n'.join(stems[:3]))
    some = shuffle_priors(str(src), str(tmp_path / 'some'), ids=str(ids))
    assert sorted(some['entries']) == stems[:3]
    assert {e['donor'] for e in some['entries'].values()} == set(stems[:3])
    ids.write_text('not_an_image')
    with pytest.raises(FileNotFoundError, match='not_an_image'):
        shuffle_priors(str(src), str(tmp_path / 'none'), ids=str(ids))


def test_shuffled_trees_and_masks_load_for_their_own_images(tmp_path):
    needs_voc12_mini()
    images = [(s, _image(s)) for s in _stems(3)]
    trees, masks = str(tmp_path / 'trees'), str(tmp_path / 'saliency')
    make_hierarchies(images, trees, ColourGradientEdges())
    make_saliency(images, masks, min_salient=0.0)
    for src, load in ((trees, LoadRegionHierarchy), (masks,
                                                     LoadSaliencyMask)):
        dst = src + '_shuffled'
        result = run_tool(sys.executable, 'tools/priors/shuffle_priors.py',
                          src, dst, '--seed', '1')
        assert result.returncode == 0, result.stdout[-2000:]
        assert osp.isfile(osp.join(dst, 'manifest.json'))
        for stem, path in images:
            shape = np.array(Image.open(path)).shape[:2]
            assert load(dst).check_prior(path, shape) is None
    manifest = shuffle_priors(trees, trees + '_shuffled', seed=1)
    for stem, entry in manifest['entries'].items():
        donor = RegionTree.load(prior_path(trees, 'region_tree',
                                           entry['donor']))
        own = RegionTree.load(prior_path(trees + '_shuffled', 'region_tree',
                                         stem))
        resized = _pil_nearest(donor.leaves, own.leaves.shape)
        present = np.unique(resized)
        assert np.array_equal(present[own.leaves], resized)
        assert np.allclose(own.distances(),
                           donor.distances()[np.ix_(present, present)])
    assert osp.isfile(osp.join(trees + '_shuffled', 'ids.txt'))


def test_a_folder_of_another_tool_is_named(tmp_path):
    (tmp_path / 'params.json').write_text('{"tool": "something_else"}')
    with pytest.raises(ValueError, match='something_else'):
        shuffle_priors(str(tmp_path), str(tmp_path / 'out'))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match='no prior files'):
        shuffle_priors(str(empty), str(tmp_path / 'out2'))


def test_region_purity_by_hand_and_brute_force():
    from mmssl_seg.evaluation.functional import grid_segments, region_purity
    segments = np.array([[0, 0, 1], [1, 1, -1]])
    labels = np.array([[2, 2, 2], [3, 3, 255]])
    # segment 0: {2, 2} -> 2 pure; segment 1: {2, 3, 3} -> 2; the last
    # pixel has neither a segment nor a label
    assert region_purity(segments, labels) == (4, 5)
    rng = np.random.default_rng(0)
    segments = rng.integers(-1, 7, (20, 30))
    labels = rng.integers(0, 4, (20, 30))
    labels[rng.random((20, 30)) < 0.1] = 255
    pure = sum(
        max(np.sum((segments == s) & (labels == c)) for c in range(4))
        for s in range(7))
    counted = np.sum((segments >= 0) & (labels != 255))
    assert region_purity(segments, labels) == (pure, counted)
    grid = grid_segments(5, 7, 2)
    assert grid.tolist()[0] == [0, 0, 0, 0, 1, 1, 1]
    assert grid.tolist()[4] == [2, 2, 2, 2, 3, 3, 3]


def test_tree_pair_agreement_against_eqs_2_and_3():
    """Four quadrant leaves, left and right halves merging first, classes
    left / right: every anchor's positive and negative class agreement
    follows from eqs. 2-3 by hand (levels: sibling 1, across 2)."""
    from mmssl_seg.evaluation.functional import tree_pair_agreement
    leaves = np.array([[0, 0, 2, 2], [0, 0, 2, 2], [1, 1, 3, 3],
                       [1, 1, 3, 3]])
    distances = np.array([[0, 1, 2, 2], [1, 0, 2, 2], [2, 2, 0, 1],
                          [2, 2, 1, 0]], np.float32)
    labels = np.array([[0, 0, 1, 1]] * 4)
    sigma = 0.8
    # positives: own region weight 1, sibling exp(-1/s), across 2 exp(-2/s)
    same = (1 + np.exp(-1 / sigma)) / (
        1 + np.exp(-1 / sigma) + 2 * np.exp(-2 / sigma))
    # negatives: sibling exp(1/s), the two across exp(2/s)
    other = 2 * np.exp(2 / sigma) / (np.exp(1 / sigma) +
                                     2 * np.exp(2 / sigma))
    counts = tree_pair_agreement(leaves, distances, labels, 40000, sigma)
    assert counts[1] == counts[3] == 40004  # 10 001 draws of 4 anchors
    # binomial std at 40 000 pairs is about 0.002
    assert counts[0] / counts[1] == pytest.approx(same, abs=0.008)
    assert counts[2] / counts[3] == pytest.approx(other, abs=0.008)
    ignored = np.full_like(labels, 255)
    assert tree_pair_agreement(leaves, distances, ignored, 100).tolist() == [
        0, 0, 0, 0]


def test_prior_purity_cli_on_real_mosaics(tmp_path, small_mosaics):
    """Own labels are pure, another image's are not, and a 1x1 grid is each
    image's commonest texture: pooled over real mosaics."""
    root = small_mosaics
    gt_dir = root / 'annotations' / 'train'
    ids = (root / 'train.txt').read_text().split()
    gts = [np.array(Image.open(gt_dir / f'{i}.png')) for i in ids]
    shuffled = tmp_path / 'shuffled'
    shuffled.mkdir()
    for i, gt in zip(ids, gts[1:] + gts[:1]):
        Image.fromarray(gt).save(shuffled / f'{i}.png')
    result = run_tool(sys.executable, 'tools/analysis/prior_purity.py',
                      str(gt_dir), '--ids', str(root / 'train.txt'),
                      '--labels', f'own={gt_dir}', f'other={shuffled}',
                      '--grid', '1')
    assert result.returncode == 0, result.stdout[-2000:]
    purity = json.loads(result.stdout[result.stdout.index('{'):])['purity']
    assert purity['own'] == 1.0
    majority = sum(np.bincount(g.ravel()).max() for g in gts)
    assert purity['grid_1x1'] == round(majority / sum(g.size for g in gts),
                                       4)
    pure = 0
    for gt, other in zip(gts, gts[1:] + gts[:1]):
        for s in np.unique(other):
            pure += np.bincount(gt[other == s]).max()
    assert purity['other'] == round(pure / sum(g.size for g in gts), 4)
    assert purity['other'] < 1.0
