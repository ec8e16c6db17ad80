"""Oracle priors: a prior folder rebuilt from the ground truth, the prior-
level positive control of a benchmark.

A method pretrained on such a folder has the same images, files, pipeline
and budget as on its own prior, but a prior that is right. Beside the
negative control (another image's prior, :mod:`mmssl_seg.priors.shuffle`)
it measures whether a regime can tell a working prior from a broken one at
all: if the oracle does not beat the shuffled prior either, no prior could
show its worth there, and a method level with its negative control says
nothing about the method.

Per prior file (maps resized to the source file's size by nearest
neighbour):

* auxiliary labels: the class map (255 stays "no label"); superpixels are
  the source's.
* region trees: the source tree with perfect contours added: each leaf is
  split where a ground-truth region boundary crosses it, leaves inside one
  ground-truth region (a connected component of one class) keep the source
  tree's distances, and leaves of different regions merge last, at UCM
  strength 1 (the strongest contour) or above the source's top. Positive
  pixel pairs then never cross a region boundary and the farthest level
  separates the regions, whatever the source's edges said. Unlabelled
  pixels (255: VOC's 5-pixel bands along object boundaries, where the
  annotators left the contour's exact place open) take the class of the
  nearest labelled pixel, i.e. the perfect contour runs through the band's
  middle. (As regions of their own the bands cut voc12_mini's 40-leaf
  trees into up to 596 pieces, more than a tree stores; filled, at most
  171.) Where the pieces still exceed ``MAX_LEAVES``, the smallest merge
  into the largest piece of their own region, which keeps both guarantees.
* saliency masks: every labelled pixel that is not background (class 0)
  is salient (255).

Mix-and-Match has no oracle: its prior is the train labels themselves.
Written like the other prior tools: atomically per image, finished images
skipped, ``--shard K/N``, a manifest; another source or ground truth into
the same folder is refused.
"""
from __future__ import annotations

import os.path as osp
import shutil

import cv2
import numpy as np
from scipy import ndimage

from mmssl_seg.priors.folders import (
    LABEL_MAPS,
    copy_list_files,
    map_shape,
    prior_file,
    read_prior,
    resize_nearest,
    select_stems,
    source_kinds,
)
from mmssl_seg.priors.manifest import Manifest, merge_manifests, shard
from mmssl_seg.structures import MAX_LEAVES, RegionTree
from mmssl_seg.utils.errors import ArgumentError
from mmssl_seg.utils.io import atomic_path
from mmssl_seg.utils.parallel import parallel_map

TOOL = 'oracle_priors'
IGNORE = 255


def class_regions(classes: np.ndarray) -> np.ndarray:
    """Connected components (4-neighbourhood) of each value of a class map,
    numbered ``0..n-1``: two cells of one class that do not touch are two
    regions, as a contour detector would see them."""
    regions = np.zeros(classes.shape, np.int64)
    count = 0
    for value in np.unique(classes):
        n, parts = cv2.connectedComponents(
            (classes == value).astype(np.uint8), connectivity=4)
        inside = parts > 0
        regions[inside] = parts[inside] - 1 + count
        count += n - 1
    return regions


def fill_unlabelled(classes: np.ndarray) -> np.ndarray:
    """``classes`` with every unlabelled pixel (255) given the class of the
    nearest labelled pixel (Euclidean; a map with no labelled pixel stays as
    it is)."""
    unlabelled = classes == IGNORE
    if not unlabelled.any() or unlabelled.all():
        return classes
    _, (rows, cols) = ndimage.distance_transform_edt(unlabelled,
                                                     return_indices=True)
    return classes[rows, cols]


def cap_leaves(leaves: np.ndarray, region: np.ndarray,
               limit: int = MAX_LEAVES) -> tuple[np.ndarray, np.ndarray]:
    """Merge the smallest leaves into the largest leaf of their region until
    at most ``limit`` remain.

    Args:
        leaves: Leaf index ``0..n-1`` of every pixel.
        region: ``(n, )`` ground-truth region of every leaf.

    Returns:
        The renumbered leaf of every pixel and, per new leaf, the old leaf
        it keeps (whose source distances it inherits).
    """
    n = len(region)
    target = np.arange(n)
    if n > limit:
        area = np.bincount(leaves.ravel(), minlength=n)
        order = np.lexsort((-area, region))  # per region, largest first
        first = np.r_[True, region[order][1:] != region[order][:-1]]
        largest = np.empty(region.max() + 1, np.int64)
        largest[region[order[first]]] = order[first]
        others = np.sort(order[~first])
        if len(others) < n - limit:
            raise ValueError(f'{first.sum()} ground-truth regions: a region '
                             f'tree stores at most {limit} leaves')
        merged = others[np.argsort(area[others], kind='stable')[:n - limit]]
        target[merged] = largest[region[merged]]
    kept, renumbered = np.unique(target, return_inverse=True)
    return renumbered.ravel()[leaves], kept


def oracle_tree(tree: RegionTree, classes: np.ndarray) -> RegionTree:
    """``tree`` refined by the ground-truth regions of ``classes`` (a class
    map of the leaf map's size; see the module docstring)."""
    regions = class_regions(fill_unlabelled(classes))
    count = regions.max() + 1
    found, leaves = np.unique(tree.leaves.astype(np.int64) * count + regions,
                              return_inverse=True)
    source, region = np.divmod(found, count)
    leaves, kept = cap_leaves(leaves.reshape(classes.shape), region)
    source, region = source[kept], region[kept]
    altitudes = tree.distances('altitude')
    top = max(1.0, float(np.nextafter(altitudes.max(), np.inf)))
    dist = np.where(region[:, None] == region[None, :],
                    altitudes[np.ix_(source, source)], top)
    np.fill_diagonal(dist, 0)
    return RegionTree.from_ultrametric(leaves, dist)


def oracle_value(kind: str, value, classes: np.ndarray):
    """The oracle version of one prior file's content ``value``."""
    classes = resize_nearest(classes, map_shape(value))
    if kind == 'region_tree':
        return oracle_tree(value, classes)
    if kind == 'aux_labels':
        return classes.astype(np.uint8)
    if kind == 'saliency_mask':
        return np.where((classes != 0) & (classes != IGNORE), 255,
                        0).astype(np.uint8)
    raise ValueError(f'no oracle for {kind!r} files')


class _Oracle:
    """The per-image work (a picklable callable for the worker pool)."""

    def __init__(self, src: str, dst: str, gt_dir: str,
                 kinds: tuple[str, ...]) -> None:
        self.src, self.dst, self.gt_dir, self.kinds = src, dst, gt_dir, kinds

    def __call__(self, stem: str) -> tuple[str, str | None]:
        try:
            classes = read_prior(osp.join(self.gt_dir, f'{stem}.png'),
                                 LABEL_MAPS)
            if classes.ndim != 2:
                raise ValueError(f'{self.gt_dir}/{stem}.png is not a class '
                                 'index map')
            for kind in self.kinds:
                out = prior_file(self.dst, kind, stem)
                if osp.isfile(out):
                    continue
                path = prior_file(self.src, kind, stem)
                if kind == 'superpixels':  # not a signal about the classes
                    with atomic_path(out) as tmp:
                        shutil.copyfile(path, tmp)
                    continue
                value = oracle_value(kind, read_prior(path, kind), classes)
                if isinstance(value, RegionTree):
                    value.save(out)
                    continue
                with atomic_path(out) as tmp:
                    if not cv2.imwrite(tmp, value):
                        raise OSError(f'could not write {out}')
        except (FileNotFoundError, ValueError, OSError) as error:
            return stem, str(error)
        return stem, None


def oracle_priors(src: str, gt_dir: str, dst: str,
                  shard_spec: tuple[int, int] = (1, 1), workers: int = 1,
                  ids: str | None = None) -> dict:
    """Write the oracle control of the prior folder ``src`` to ``dst``.

    Args:
        src: A ``make_saliency.py`` / ``make_aux_labels.py`` /
            ``make_hierarchies.py`` folder.
        gt_dir: The images' class-index maps, ``<stem>.png`` (255 ignored).
        dst: The output folder (same layout; the list files of ``src`` are
            copied, so a config pointed at it trains as on ``src``).
        ids: A file of image stems: only these images.
        shard_spec: ``(K, N)``: this run does part K of N.
        workers: Processes.

    Returns:
        The merged manifest (``entries``, ``failed``, ``complete``).
    """
    tool, kinds, record = source_kinds(src)
    if tool == LABEL_MAPS:
        raise ArgumentError(f'{src} is a folder of label maps '
                            '(Mix-and-Match): its prior is the labels, it has '
                            'no oracle')
    stems = select_stems(src, kinds, ids)
    no_gt = [s for s in stems if not osp.isfile(osp.join(gt_dir, f'{s}.png'))]
    if no_gt:
        raise FileNotFoundError(
            f'{len(no_gt)} image(s) have no class map in {gt_dir}: '
            f'{no_gt[:5]}')
    params = {'source': osp.abspath(src), 'source_tool': tool,
              'source_params': record.get('params'),
              'gt_dir': osp.abspath(gt_dir), 'images': len(stems),
              # trees from before 255 was filled in differ: refuse to mix
              'tree_unlabelled': 'nearest labelled pixel'}
    manifest = Manifest(dst, TOOL, params, shard_spec)
    copy_list_files(src, dst)
    work = _Oracle(src, dst, gt_dir, kinds)
    for stem, failed in parallel_map(work, shard(stems, *shard_spec),
                                     workers, 'oracle priors'):
        manifest.entries[stem] = {} if failed is None else {'failed': failed}
    manifest.save()
    return merge_manifests(dst)
