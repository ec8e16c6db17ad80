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

import os.path as osp
from typing import Sequence

import cv2
import numpy as np

from mmssl_seg.priors.folders import (
    copy_list_files,
    map_shape,
    prior_file,
    read_prior,
    resize_nearest,
    select_stems,
    source_kinds,
)
from mmssl_seg.priors.manifest import Manifest, merge_manifests, shard
from mmssl_seg.structures import RegionTree
from mmssl_seg.utils.errors import ArgumentError
from mmssl_seg.utils.io import atomic_path
from mmssl_seg.utils.parallel import parallel_map

TOOL = 'shuffle_priors'


def derangement(n: int, seed: int) -> np.ndarray:
    """A uniformly random cyclic permutation of ``range(n)`` (Sattolo):
    ``perm[i] != i`` for every ``i`` when ``n >= 2``."""
    if n < 2:
        raise ArgumentError('a shuffled prior needs at least 2 images, got '
                            f'{n}')
    rng = np.random.default_rng(seed)
    perm = np.arange(n)
    for i in range(n - 1, 0, -1):
        j = int(rng.integers(i))  # j < i: no element stays in place
        perm[i], perm[j] = perm[j], perm[i]
    return perm


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
    return RegionTree.from_ultrametric(renumber[leaves], dist)


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
    stems = select_stems(src, kinds, ids)
    perm = derangement(len(stems), seed)
    donor = {stem: stems[perm[i]] for i, stem in enumerate(stems)}
    params = {'source': osp.abspath(src), 'source_tool': tool,
              'source_params': record.get('params'), 'seed': seed,
              'images': len(stems)}
    manifest = Manifest(dst, TOOL, params, shard_spec)
    copy_list_files(src, dst)
    todo = shard(stems, *shard_spec)
    work = _Shuffle(src, dst, kinds, donor)
    for stem, failed in parallel_map(work, todo, workers,
                                     'shuffled priors'):
        manifest.entries[stem] = ({'donor': donor[stem]} if failed is None
                                  else {'donor': donor[stem],
                                        'failed': failed})
    manifest.save()
    return merge_manifests(dst)
