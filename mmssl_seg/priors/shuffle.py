"""Negative controls: a prior folder in which every image carries the prior
of another image.

A method pretrained on such a folder has the same images, the same number
and kind of prior files and the same pipeline, but no signal that belongs to
its images: saliency masks, auxiliary labels (with their superpixels) and
region trees of ``make_*.py`` folders, or a plain folder of label maps (the
patch labels of Mix-and-Match). The donor of each image is fixed by a seeded
derangement (a random cyclic permutation, Sattolo's algorithm: nobody keeps
its own prior). The donor's maps are resized to the image's size by nearest
neighbour (pixel centres, as PIL's ``NEAREST``); a region tree whose leaves
do not all survive the resize is restricted to the surviving ones (its
ultrametric restricted, rebuilt by single linkage: the same d_T between
every pair of surviving leaves).

Per-image files are written atomically, finished ones skipped (a rerun
completes a stopped one), ``--shard K/N`` splits the images, and the
manifest records each image's donor; another seed or source into the same
folder is refused.
"""
from __future__ import annotations

import glob
import json
import os.path as osp
import shutil
from typing import Sequence

import cv2
import numpy as np

from mmssl_seg.priors.engine import Manifest, merge_manifests, shard
from mmssl_seg.structures import LAYOUT, RegionTree, prior_path
from mmssl_seg.utils.io import atomic_path
from mmssl_seg.utils.parallel import parallel_map

TOOL = 'shuffle_priors'
#: The per-image files each prior tool's training loaders read.
KINDS = {
    'make_saliency': ('saliency_mask', ),
    'make_aux_labels': ('aux_labels', 'superpixels'),
    'make_hierarchies': ('region_tree', ),
}
#: A plain folder of ``<stem>.png`` label maps (no ``params.json``).
LABEL_MAPS = 'label_maps'


def derangement(n: int, seed: int) -> np.ndarray:
    """A uniformly random cyclic permutation of ``range(n)`` (Sattolo):
    ``perm[i] != i`` for every ``i`` when ``n >= 2``."""
    if n < 2:
        raise ValueError(f'a shuffled prior needs at least 2 images, got {n}')
    rng = np.random.default_rng(seed)
    perm = np.arange(n)
    for i in range(n - 1, 0, -1):
        j = int(rng.integers(i))  # j < i: no element stays in place
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def resize_nearest(value: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a map (any dtype) to ``shape``: output
    pixel ``i`` takes source pixel ``floor((i + 0.5) * H / h)``."""
    rows = ((np.arange(shape[0]) + 0.5) * value.shape[0] /
            shape[0]).astype(np.int64)
    cols = ((np.arange(shape[1]) + 0.5) * value.shape[1] /
            shape[1]).astype(np.int64)
    return value[rows[:, None], cols[None, :]]


def restrict_tree(tree: RegionTree, leaves: np.ndarray) -> RegionTree:
    """``tree`` with the leaf map ``leaves`` (indices into ``tree``'s
    leaves, some possibly absent): the absent leaves are dropped, the others
    renumbered in order, and the hierarchy over them rebuilt from the
    tree's altitudes by single linkage (exact for an ultrametric)."""
    present = np.unique(leaves)
    if len(present) == tree.num_leaves:
        return RegionTree(leaves.astype(np.uint8), tree.parents,
                          tree.altitudes)
    renumber = np.zeros(tree.num_leaves, np.int64)
    renumber[present] = np.arange(len(present))
    dist = tree.distances('altitude')[np.ix_(present, present)]
    return tree_from_ultrametric(renumber[leaves], dist)


def tree_from_ultrametric(leaves: np.ndarray, dist: np.ndarray
                          ) -> RegionTree:
    """The region tree of a leaf map (values ``0..k-1``) and a ``k x k``
    ultrametric between its leaves: single linkage, which for an
    ultrametric merges every pair at exactly its distance."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform
    k = len(dist)
    if k > 256:
        raise ValueError(f'{k} leaves: a region tree stores at most 256')
    leaves = leaves.astype(np.uint8)
    if k == 1:
        return RegionTree(leaves, np.zeros(1, np.int64),
                          np.zeros(1, np.float32))
    merges = linkage(squareform(dist, checks=False), method='single')
    parents = np.arange(2 * k - 1)
    altitudes = np.zeros(2 * k - 1, np.float32)
    for i, (a, b, height, _) in enumerate(merges):
        parents[int(a)] = parents[int(b)] = k + i
        altitudes[k + i] = height
    return RegionTree(leaves, parents, altitudes)


def source_kinds(src: str) -> tuple[str, tuple[str, ...], dict]:
    """(tool, kinds, its params record) of a prior folder, or the plain
    label-map mode."""
    params = osp.join(src, 'params.json')
    if not osp.isfile(params):
        return LABEL_MAPS, (LABEL_MAPS, ), {}
    with open(params) as f:
        record = json.load(f)
    tool = record.get('tool')
    if tool not in KINDS:
        raise ValueError(f'{src} was written by {tool!r}; shuffle_priors '
                         f'takes folders of {sorted(KINDS)} or a plain '
                         'folder of <stem>.png label maps')
    return tool, KINDS[tool], record


def prior_file(root: str, kind: str, stem: str) -> str:
    if kind == LABEL_MAPS:
        return osp.join(root, f'{stem}.png')
    return prior_path(root, kind, stem)


def prior_stems(src: str, kinds: Sequence[str]) -> list[str]:
    """The images that have every kind of file in ``src``."""
    found = None
    for kind in kinds:
        pattern = (osp.join(src, '*.png') if kind == LABEL_MAPS else
                   osp.join(src, LAYOUT[kind].format(stem='*')))
        stems = {osp.splitext(osp.basename(p))[0]
                 for p in glob.glob(pattern)}
        found = stems if found is None else found & stems
    return sorted(found or ())


def read_prior(path: str, kind: str):
    if kind == 'region_tree':
        return RegionTree.load(path)
    if kind == LABEL_MAPS:  # palette PNGs (VOC) hold indices: read as MMSeg
        from PIL import Image
        try:
            with Image.open(path) as image:
                return np.array(image)
        except (FileNotFoundError, OSError):
            raise FileNotFoundError(
                f'label map missing or unreadable: {path}') from None
    value = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if value is None:
        raise FileNotFoundError(f'prior file missing or unreadable: {path}')
    return value


def map_shape(value) -> tuple[int, int]:
    return tuple((value.leaves if isinstance(value, RegionTree)
                  else value).shape[:2])


class _Shuffle:
    """The per-image work (a picklable callable for the worker pool)."""

    def __init__(self, src: str, dst: str, kinds: Sequence[str],
                 donor: dict[str, str]) -> None:
        self.src, self.dst, self.kinds, self.donor = src, dst, kinds, donor

    def __call__(self, stem: str) -> tuple[str, str | None]:
        try:
            for kind in self.kinds:
                out = prior_file(self.dst, kind, stem)
                if osp.isfile(out):
                    continue
                shape = map_shape(
                    read_prior(prior_file(self.src, kind, stem), kind))
                value = read_prior(
                    prior_file(self.src, kind, self.donor[stem]), kind)
                if isinstance(value, RegionTree):
                    restrict_tree(value, resize_nearest(value.leaves, shape)
                                  ).save(out)
                    continue
                with atomic_path(out) as tmp:
                    if not cv2.imwrite(tmp, resize_nearest(value, shape)):
                        raise OSError(f'could not write {out}')
        except (FileNotFoundError, ValueError, OSError) as error:
            return stem, str(error)
        return stem, None


def shuffle_priors(src: str, dst: str, seed: int = 0,
                   shard_spec: tuple[int, int] = (1, 1),
                   workers: int = 1, ids: str | None = None) -> dict:
    """Write the negative control of the prior folder ``src`` to ``dst``.

    Args:
        src: A ``make_saliency.py`` / ``make_aux_labels.py`` /
            ``make_hierarchies.py`` folder, or a folder of ``<stem>.png``
            label maps.
        dst: The output folder (same layout; its list files, e.g.
            ``ids.txt`` and ``kept_train.txt``, are copied).
        seed: The derangement's seed.
        ids: A file of image stems: only these images, and only among
            themselves (e.g. the train split of a label folder that also
            holds val).
        shard_spec: ``(K, N)``: this run does part K of N.
        workers: Processes.

    Returns:
        The merged manifest (``entries``: each image's ``donor``;
        ``failed``; ``complete``).
    """
    tool, kinds, record = source_kinds(src)
    stems = prior_stems(src, kinds)
    if ids is not None:
        with open(ids) as f:
            wanted = f.read().split()
        missing = sorted(set(wanted) - set(stems))
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} image(s) of {ids} have no prior files of '
                f'{list(kinds)} in {src}: {missing[:5]}')
        stems = sorted(set(wanted))
    if not stems:
        raise FileNotFoundError(f'no prior files of {list(kinds)} in {src}')
    perm = derangement(len(stems), seed)
    donor = {stem: stems[perm[i]] for i, stem in enumerate(stems)}
    params = {'source': osp.abspath(src), 'source_tool': tool,
              'source_params': record.get('params'), 'seed': seed,
              'images': len(stems)}
    manifest = Manifest(dst, TOOL, params, shard_spec)
    for path in glob.glob(osp.join(src, '*.txt')):  # the configs' lists
        target = osp.join(dst, osp.basename(path))
        if not osp.isfile(target):
            with atomic_path(target) as tmp:
                shutil.copyfile(path, tmp)
    todo = shard(stems, *shard_spec)
    work = _Shuffle(src, dst, kinds, donor)
    for stem, failed in parallel_map(work, todo, workers,
                                     'shuffled priors'):
        manifest.entries[stem] = ({'donor': donor[stem]} if failed is None
                                  else {'donor': donor[stem],
                                        'failed': failed})
    manifest.save()
    return merge_manifests(dst)
