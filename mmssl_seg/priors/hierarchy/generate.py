"""Region hierarchies for hierarchical grouping (Zhang and Maire, NeurIPS
2020, sec. 3 "Grouping Primitive" and 4.1 "Edges and Regions").

Per image: edges from a pluggable detector, the watershed arcs (carrying
the edges' thinned strength, or the oriented watershed transform's) and the
mean-boundary ultrametric contour map (Arbelaez et al., TPAMI 2011) with
higra, the tree cut to at most ``max_leaves`` finest
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

import numpy as np

from mmssl_seg.priors.hierarchy.edges import EdgeDetector, thin_edges
from mmssl_seg.priors.manifest import Manifest, merge_manifests, shard
from mmssl_seg.structures import RegionTree, prior_path, write_ucm2
from mmssl_seg.utils.errors import ArgumentError, DegeneratePriorError
from mmssl_seg.utils.io import ImageReadError, atomic_path, read_image
from mmssl_seg.utils.parallel import parallel_map

TOOL = 'make_hierarchies'


#: What the watershed arcs carry into the mean-boundary UCM; the paper's
#: OWT-UCM by default (``nms`` kept 0.012-0.014 ODS more on BSDS).
ARC_STRENGTHS = ('owt', 'nms')
DEFAULT_ARCS = 'owt'


def ucm_tree(edges: np.ndarray, orientation: np.ndarray,
             min_area: float = 0.005, arcs: str = DEFAULT_ARCS):
    """Watershed arcs of an edge map and their mean-boundary UCM (Arbelaez
    et al., TPAMI 2011, sec. 4) with higra: ``(pixel graph, tree over the
    watershed superpixels, altitudes)``. Two regions' dissimilarity is the
    mean strength along their common boundary; the lowest pair merges
    first.

    Args:
        min_area: Regions smaller than this fraction of the image are merged
            into a neighbour first (higra's ``filter_small_nodes_from_tree``;
            the paper is silent). The mean-boundary UCM keeps small regions
            with strong edges (texture, specularities) up to high levels;
            without the filter a 40-region cut of a BSDS image is a few large
            regions and many specks.
        arcs: The arcs' strength (default ``owt``, the paper's OWT-UCM;
            ``nms`` keeps 0.012-0.014 ODS more of the edges' quality on BSDS,
            configs/hier_grouping/README.md).
            ``owt``: the oriented watershed transform
            (sec. 4.1): the edge strength reweighted by the agreement of the
            edges' orientation with the arc's straight-line approximation
            (higra's ``mean_pb_hierarchy``; orientations averaged over a
            graph edge modulo pi). ``nms``: the edge map after SE's
            non-maximum suppression along its orientation
            (:func:`thin_edges`) - the arcs that cross the flank of a strong
            edge (a watershed arc meets it from the side) carry nothing
            where the OWT's angle test lets part of the flank through.
    """
    import higra as hg
    if arcs not in ARC_STRENGTHS:
        raise ArgumentError(f'arcs must be one of {ARC_STRENGTHS}, got '
                            f'{arcs!r}')
    shape = edges.shape
    graph = hg.get_4_adjacency_graph(shape)
    weights = hg.weight_graph(graph, edges, hg.WeightFunction.mean)
    if arcs == 'owt':
        # circular mean of the two normals: 0.05 and pi - 0.05 average to 0
        cos = hg.weight_graph(graph, np.cos(2 * orientation),
                              hg.WeightFunction.mean)
        sin = hg.weight_graph(graph, np.sin(2 * orientation),
                              hg.WeightFunction.mean)
        orient = np.mod(0.5 * np.arctan2(sin, cos), np.pi)
        tree, altitudes = hg.mean_pb_hierarchy(graph, weights, shape, orient)
    else:
        # a graph edge on the thin ridge takes the ridge pixel's strength
        strength = hg.weight_graph(graph, thin_edges(edges, orientation),
                                   hg.WeightFunction.max)
        rag = hg.make_region_adjacency_graph_from_labelisation(
            graph, hg.labelisation_watershed(graph, weights))
        mean = hg.rag_accumulate_on_edges(rag, hg.Accumulators.mean,
                                          strength)
        length = hg.rag_accumulate_on_edges(rag, hg.Accumulators.counter,
                                            strength)
        tree, altitudes = hg.binary_partition_tree_average_linkage(
            rag, mean, length)
    if min_area > 0:
        tree, altitudes = hg.filter_small_nodes_from_tree(
            tree, altitudes, min_area * shape[0] * shape[1])
    return graph, tree, altitudes


def hierarchy(image: np.ndarray, detector: EdgeDetector,
              max_leaves: int = 40, min_area: float = 0.005,
              arcs: str = DEFAULT_ARCS) -> tuple[RegionTree, np.ndarray]:
    """The region tree of ``image`` (:func:`ucm_tree`, cut to at most
    ``max_leaves`` leaves, 40 in the paper) and the full hierarchy's UCM on
    the Khalimsky grid (BSDS's ``ucm2``: boundaries at odd coordinates,
    regions at the pixels ``[1::2, 1::2]``)."""
    return hierarchy_from_edges(*detector(image), max_leaves, min_area, arcs)


def hierarchy_from_edges(edges: np.ndarray, orientation: np.ndarray,
                         max_leaves: int = 40, min_area: float = 0.005,
                         arcs: str = DEFAULT_ARCS
                         ) -> tuple[RegionTree, np.ndarray]:
    """:func:`hierarchy` of an edge map and its orientation."""
    import higra as hg
    shape = edges.shape
    graph, tree, altitudes = ucm_tree(edges, orientation, min_area, arcs)
    region_tree = tree_from_hierarchy(tree, altitudes, shape, max_leaves)
    saliency = hg.saliency(tree, altitudes)  # on the pixel graph's edges
    ucm2 = hg.graph_4_adjacency_2_khalimsky(graph, saliency, shape,
                                            add_extra_border=True)
    return region_tree, np.asarray(ucm2, np.float32)


def tree_from_hierarchy(tree, altitudes: np.ndarray, shape: tuple[int, int],
                        max_leaves: int = 40) -> RegionTree:
    """Keep the top of a higra hierarchy: its largest horizontal cut with at
    most ``max_leaves`` regions becomes the leaves.

    Args:
        tree: A higra tree over superpixels (its leaves), whose leaf graph
            is a region adjacency graph of the pixels.
        altitudes: Node altitudes of ``tree``.
        shape: Image ``(H, W)``.
        max_leaves: Most regions at the finest level (at most 255).
    """
    import higra as hg
    if not 1 <= max_leaves <= 255:
        raise ArgumentError(f'max_leaves must be in 1..255, got {max_leaves}')
    vertex_map = hg.CptRegionAdjacencyGraph.get_vertex_map(
        hg.CptHierarchy.get_leaf_graph(tree))  # pixel -> superpixel
    parents = tree.parents()
    explorer = hg.HorizontalCutExplorer(tree, altitudes)
    cut = explorer.horizontal_cut_from_num_regions(max_leaves,
                                                   at_least=False)
    cut_nodes = np.sort(cut.nodes())
    n = len(parents)
    region = np.full(n, -1, np.int64)
    region[cut_nodes] = np.arange(len(cut_nodes))
    kept = np.zeros(n, bool)  # strict ancestors of the cut
    for node in cut_nodes:
        node = int(node)
        while parents[node] != node and not kept[parents[node]]:
            node = int(parents[node])
            kept[node] = True
    for node in range(n - 1, -1, -1):  # every node inherits its cut region
        if region[node] < 0 and not kept[node]:
            region[node] = region[parents[node]]
    internal = np.flatnonzero(kept)  # already in topological order
    k = len(cut_nodes)
    new_id = np.full(n, -1, np.int64)
    new_id[cut_nodes] = np.arange(k)
    new_id[internal] = k + np.arange(len(internal))
    old = np.concatenate([cut_nodes, internal])
    new_parents = new_id[parents[old]]
    if len(internal) == 0:  # one region: it is the root
        new_parents = np.zeros(1, np.int64)
    new_alt = np.concatenate([np.zeros(k), altitudes[internal]])
    leaves = region[vertex_map].reshape(shape).astype(np.uint8)
    return RegionTree(leaves, new_parents, new_alt.astype(np.float32))


class HierarchyWriter:
    """Computes and writes one image's tree and UCM (picklable for
    workers); returns ``(stem, entry)``."""

    def __init__(self, out_dir: str, detector: EdgeDetector,
                 max_leaves: int, min_area: float,
                 strict: bool = False, save_edges: bool = False,
                 arcs: str = DEFAULT_ARCS) -> None:
        self.out_dir = out_dir
        self.detector = detector
        self.max_leaves = max_leaves
        self.min_area = min_area
        self.arcs = arcs
        self.strict = strict
        self.save_edges = save_edges

    def paths(self, stem: str) -> tuple[str, str]:
        return (prior_path(self.out_dir, 'region_tree', stem),
                prior_path(self.out_dir, 'ucm2', stem))

    def __call__(self, item: tuple[str, str]) -> tuple[str, dict]:
        stem, image_path = item
        tree_path, ucm_path = self.paths(stem)
        if osp.isfile(tree_path) and osp.isfile(ucm_path):
            # done by an earlier, interrupted run whose manifest did not
            # record it: record it now (the files are its whole output)
            return stem, {'image': image_path,
                          'leaves': RegionTree.load(tree_path).num_leaves}
        start = time.perf_counter()
        try:
            image = read_image(image_path)
        except ImageReadError as error:
            if self.strict:
                raise
            return stem, {'image': image_path, 'failed': str(error)}
        edges, orientation = self.detector(image)
        tree, ucm = hierarchy_from_edges(edges, orientation, self.max_leaves,
                                         self.min_area, self.arcs)
        write_ucm2(ucm_path, ucm)
        if self.save_edges:  # thinned, for the edge benchmark
            write_ucm2(prior_path(self.out_dir, 'edges', stem),
                       thin_edges(edges, orientation))
        tree.save(tree_path)  # last: its presence means the image is done
        return stem, {'image': image_path, 'leaves': tree.num_leaves,
                      'seconds': round(time.perf_counter() - start, 3)}


def check_hierarchies(merged: dict, stems: Sequence[str]) -> None:
    """Raise :class:`DegeneratePriorError` when an image of this shard is
    missing from the manifest (so from ``ids.txt``, which training reads),
    or when, all shards done, every tree is a single region (nothing to
    contrast)."""
    unlisted = [s for s in stems if s not in merged['entries']]
    if unlisted:
        raise DegeneratePriorError(
            f'{len(unlisted)} of {len(stems)} images of this run are not in '
            f'the manifest (e.g. {unlisted[:3]}): ids.txt would leave them '
            'out of training')
    leaves = [e['leaves'] for e in merged['entries'].values()
              if 'leaves' in e]
    if merged['complete'] and leaves and max(leaves) < 2:
        raise DegeneratePriorError(
            f'all {len(leaves)} region trees are a single region: the edges '
            'found no boundary (a blank edge map?); grouping would have '
            'nothing to contrast')


def make_hierarchies(images: Sequence[tuple[str, str]], out_dir: str,
                     detector: EdgeDetector, max_leaves: int = 40,
                     min_area: float = 0.005, workers: int = 1,
                     shard_spec: tuple[int, int] = (1, 1),
                     strict: bool = False, save_edges: bool = False,
                     arcs: str = DEFAULT_ARCS) -> dict:
    """Trees and UCMs for this shard of ``images`` (see :func:`hierarchy`),
    the manifest (detector, ``max_leaves``, ``min_area``, per image the
    leaves and seconds) and ``ids.txt`` (every
    image done so far, a dataset ``ann_file``); returns the merged
    manifest. An unreadable image is skipped and listed under ``failed``
    (``strict``: the run stops at it)."""
    params = {'detector': detector.params, 'max_leaves': max_leaves,
              'min_area': min_area, 'arcs': arcs}
    if save_edges:  # a folder is made with or without them, never mixed
        params['save_edges'] = True
    manifest = Manifest(out_dir, TOOL, params, shard_spec)
    writer = HierarchyWriter(out_dir, detector, max_leaves, min_area, strict,
                             save_edges, arcs)
    todo = [item for item in shard(images, *shard_spec)
            if item[0] not in manifest.entries
            or not osp.isfile(writer.paths(item[0])[0])]
    for done, (stem, entry) in enumerate(
            parallel_map(writer, todo, workers, 'region hierarchies')):
        manifest.entries[stem] = entry
        if done % 50 == 49:
            manifest.save()
    manifest.save()
    merged = merge_manifests(out_dir)
    check_hierarchies(merged, [stem for stem, _ in shard(images,
                                                         *shard_spec)])
    with atomic_path(osp.join(out_dir, 'ids.txt')) as tmp:
        with open(tmp, 'w') as f:
            f.write(''.join(s + '\n' for s in sorted(merged['entries'])
                            if s not in merged['failed']))
    seconds = [e['seconds'] for e in merged['entries'].values()
               if 'seconds' in e]
    merged['seconds_per_image'] = float(np.mean(seconds)) if seconds else 0.0
    return merged
