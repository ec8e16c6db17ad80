"""Region hierarchies for hierarchical grouping (Zhang and Maire, NeurIPS
2020, sec. 3 "Grouping Primitive" and 4.1 "Edges and Regions").

Per image: edges from a pluggable detector, the oriented watershed
transform and the mean-boundary ultrametric contour map (Arbelaez et al.,
TPAMI 2011) with higra, the tree cut to at most ``max_leaves`` finest
regions. Writes ``trees/<stem>.npz`` (:class:`RegionTree`) and, for the
boundary benchmark and pictures, ``ucm2/<stem>.png`` (the whole hierarchy's
UCM on the ``(2H+1) x (2W+1)`` Khalimsky grid of BSDS's ``ucm2``, 16 bit),
each atomically; a rerun skips images whose
outputs exist; ``--shard K/N`` splits the images across machines.
"""
from __future__ import annotations

import os.path as osp
import time
from typing import Sequence

import cv2
import numpy as np

from mmssl_seg.priors.engine import (Manifest, merge_manifests,
                                     parallel_map, shard)
from mmssl_seg.priors.hierarchy.edges import EdgeDetector
from mmssl_seg.priors.hierarchy.tree import RegionTree, tree_from_hierarchy
from mmssl_seg.utils.io import ImageReadError, atomic_path, read_image

TOOL = 'make_hierarchies'
UCM_SCALE = 65535


def ucm_tree(edges: np.ndarray, orientation: np.ndarray,
             min_area: float = 0.005):
    """Oriented watershed + mean-boundary UCM of an edge map with higra:
    ``(pixel graph, tree over superpixels, altitudes)``.

    Args:
        min_area: Regions smaller than this fraction of the image are merged
            into a neighbour first (higra's ``filter_small_nodes_from_tree``;
            the paper is silent). The mean-boundary UCM keeps small regions
            with strong edges (texture, specularities) up to high levels;
            without the filter a 40-region cut of a BSDS image is a few large
            regions and many specks.
    """
    import higra as hg
    shape = edges.shape
    graph = hg.get_4_adjacency_graph(shape)
    weights = hg.weight_graph(graph, edges, hg.WeightFunction.mean)
    orient = hg.weight_graph(graph, orientation, hg.WeightFunction.mean)
    tree, altitudes = hg.mean_pb_hierarchy(graph, weights, shape, orient)
    if min_area > 0:
        tree, altitudes = hg.filter_small_nodes_from_tree(
            tree, altitudes, min_area * shape[0] * shape[1])
    return graph, tree, altitudes


def hierarchy(image: np.ndarray, detector: EdgeDetector,
              max_leaves: int = 40,
              min_area: float = 0.005) -> tuple[RegionTree, np.ndarray]:
    """The region tree of ``image`` (:func:`ucm_tree`, cut to at most
    ``max_leaves`` leaves, 40 in the paper) and the full hierarchy's UCM on
    the Khalimsky grid (BSDS's ``ucm2``: boundaries at odd coordinates,
    regions at the pixels ``[1::2, 1::2]``)."""
    import higra as hg
    edges, orientation = detector(image)
    shape = edges.shape
    graph, tree, altitudes = ucm_tree(edges, orientation, min_area)
    region_tree = tree_from_hierarchy(tree, altitudes, shape, max_leaves)
    saliency = hg.saliency(tree, altitudes)  # on the pixel graph's edges
    ucm2 = hg.graph_4_adjacency_2_khalimsky(graph, saliency, shape,
                                            add_extra_border=True)
    return region_tree, np.asarray(ucm2, np.float32)


def read_ucm2(path: str) -> np.ndarray:
    """A ``ucm2`` written by :func:`make_hierarchies` (``.png``) or by the
    BSDS code (``.mat`` with a ``ucm2`` array), as float in [0, 1]."""
    if path.endswith('.mat'):
        from scipy.io import loadmat
        return loadmat(path)['ucm2'].astype(np.float32)
    ucm = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if ucm is None:
        raise FileNotFoundError(f'UCM missing: {path}')
    return ucm.astype(np.float32) / UCM_SCALE


class HierarchyWriter:
    """Computes and writes one image's tree and UCM (picklable for
    workers); returns ``(stem, entry)``."""

    def __init__(self, out_dir: str, detector: EdgeDetector,
                 max_leaves: int, min_area: float,
                 strict: bool = False) -> None:
        self.out_dir = out_dir
        self.detector = detector
        self.max_leaves = max_leaves
        self.min_area = min_area
        self.strict = strict

    def paths(self, stem: str) -> tuple[str, str]:
        return (osp.join(self.out_dir, 'trees', stem + '.npz'),
                osp.join(self.out_dir, 'ucm2', stem + '.png'))

    def __call__(self, item: tuple[str, str]) -> tuple[str, dict]:
        stem, image_path = item
        tree_path, ucm_path = self.paths(stem)
        if osp.isfile(tree_path) and osp.isfile(ucm_path):
            return stem, {}
        start = time.perf_counter()
        try:
            image = read_image(image_path)
        except ImageReadError as error:
            if self.strict:
                raise
            return stem, {'image': image_path, 'failed': str(error)}
        tree, ucm = hierarchy(image, self.detector, self.max_leaves,
                              self.min_area)
        with atomic_path(ucm_path) as tmp:
            scaled = np.round(np.clip(ucm, 0, 1) * UCM_SCALE)
            if not cv2.imwrite(tmp, scaled.astype(np.uint16)):
                raise OSError(f'could not write {ucm_path}')
        tree.save(tree_path)  # last: its presence means the image is done
        return stem, {'image': image_path, 'leaves': tree.num_leaves,
                      'seconds': round(time.perf_counter() - start, 3)}


def make_hierarchies(images: Sequence[tuple[str, str]], out_dir: str,
                     detector: EdgeDetector, max_leaves: int = 40,
                     min_area: float = 0.005, workers: int = 1,
                     shard_spec: tuple[int, int] = (1, 1),
                     strict: bool = False) -> dict:
    """Trees and UCMs for this shard of ``images`` (see :func:`hierarchy`),
    the manifest (detector, ``max_leaves``, ``min_area``, per image the leaves and seconds) and ``ids.txt`` (every
    image done so far, a dataset ``ann_file``); returns the merged
    manifest. An unreadable image is skipped and listed under ``failed``
    (``strict``: the run stops at it)."""
    manifest = Manifest(out_dir, TOOL, {'detector': detector.params,
                                        'max_leaves': max_leaves,
                                        'min_area': min_area}, shard_spec)
    writer = HierarchyWriter(out_dir, detector, max_leaves, min_area, strict)
    todo = [item for item in shard(images, *shard_spec)
            if item[0] not in manifest.entries
            or not osp.isfile(writer.paths(item[0])[0])]
    for done, (stem, entry) in enumerate(
            parallel_map(writer, todo, workers, 'region hierarchies')):
        if entry:
            manifest.entries[stem] = entry
        if done % 50 == 49:
            manifest.save()
    manifest.save()
    merged = merge_manifests(out_dir)
    with atomic_path(osp.join(out_dir, 'ids.txt')) as tmp:
        with open(tmp, 'w') as f:
            f.write(''.join(s + '\n' for s in sorted(merged['entries'])
                            if s not in merged['failed']))
    seconds = [e['seconds'] for e in merged['entries'].values()
               if 'seconds' in e]
    merged['seconds_per_image'] = float(np.mean(seconds)) if seconds else 0.0
    return merged
