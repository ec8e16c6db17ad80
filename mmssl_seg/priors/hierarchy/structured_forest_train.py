"""Training structured edge forests on BSDS-style annotations (Dollar and
Zitnick, TPAMI 2015, sec. 3-4; the facts of ``edgesTrain.m``, our code).

Per tree (its own random stream, seed + tree index):

* **Data**: from every image, for every annotator, up to ``ceil(positives /
  images / annotators)`` patch positions whose centre is within 8 pixels of
  that annotator's boundary and as many farther away, on the stride-2 grid;
  the patch's 16 x 16 segmentation (relabelled 0..m-1) is the structured
  label. Only a random quarter of the 7 228 features is kept per tree.
* **Nodes** (``forestTrain`` with ``discretize``): the node's segmentation
  patches become 256 binary "same segment?" indicators of random pixel pairs,
  centred; the sign of their first principal component splits them into
  two classes; the node splits on the best Gini threshold over
  ``round(sqrt(F))`` random features, unless pure, too small (``min_count``),
  too deep, or a child would hold fewer than ``min_child`` patches. A leaf
  keeps the patch closest to the mean indicator vector.
* **Leaves' edges** (``mergeTrees``): segments of at most 5 pixels merge into
  the (rounded) median label around them; edge pixels are where the label
  image's central-difference gradient is non-zero.

Two approximations for CPU speed, both stated in the tool's manifest: the
split search runs on 256 quantile bins per feature (thresholds are bin
edges, exactly what OpenCV compares against); the principal component comes
from power iteration on at most ``pca_rows`` of a node's patches (all
patches are projected).
"""
from __future__ import annotations

import dataclasses
import math
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
from numba import njit

from mmssl_seg.priors.hierarchy.structured_forest import (
    ForestOptions,
    StructuredForest,
    compute_channels,
    gather_features,
    segment_edges,
)
from mmssl_seg.utils.io import atomic_path

TOOL = 'train_structured_edges'


@dataclass(frozen=True)
class TrainOptions:
    """Training parameters (``edgesTrain.m`` defaults where it has them).

    Args:
        positives: Patches near a boundary per tree.
        negatives: Patches away from boundaries per tree.
        feature_fraction: Features kept per tree (``fracFtrs``).
        min_count: Nodes with at most this many patches are leaves.
        min_child: Fewest patches in a child.
        max_depth: Deepest split.
        pairs: Pixel pairs of the structured-label indicators (``nSamples``).
        bins: Quantile bins per feature for the split search.
        pca_rows: Most patches of a node used for its principal component.
        pilot_per_image: Patches per image that set the quantile bins.
        seed: Seed of every random draw.
    """

    positives: int = 500_000
    negatives: int = 500_000
    feature_fraction: float = 0.25
    min_count: int = 1
    min_child: int = 8
    max_depth: int = 64
    pairs: int = 256
    bins: int = 256
    pca_rows: int = 1024
    pilot_per_image: int = 20
    seed: int = 1


@dataclass
class Annotated:
    """One training image: RGB in [0, 1] and per annotator the boundary map
    and the segmentation."""

    rgb: np.ndarray
    boundaries: list
    segments: list


def read_annotated(image_path: str, gt_path: str) -> Annotated:
    """A BSDS image and its ``groundTruth`` ``.mat``."""
    from mmssl_seg.structures import read_bsds_ground_truth
    from mmssl_seg.utils.io import read_image
    rgb = cv2.cvtColor(read_image(image_path), cv2.COLOR_BGR2RGB)
    boundaries, segments = read_bsds_ground_truth(gt_path)
    return Annotated(rgb.astype(np.float32) / 255.0, boundaries, segments)


def sample_positions(data: Annotated, opts: ForestOptions, per_annotator:
                     tuple[int, int], rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Patch positions and labels of one image: ``(rows, cols, labels)``,
    the label patches' top-left pixels (even, so that the image patch starts
    on the channels' grid: channel ``(row / shrink, col / shrink)``) and
    their ``n x label_size x label_size`` uint8 segmentations."""
    from scipy.ndimage import distance_transform_edt
    size, half = opts.label_size, opts.label_size // 2
    h, w = data.rgb.shape[:2]
    rows, cols = np.meshgrid(np.arange(0, h - size + 1, opts.shrink),
                             np.arange(0, w - size + 1, opts.shrink),
                             indexing='ij')
    rows, cols = rows.ravel(), cols.ravel()
    centre = (rows + half - 1, cols + half - 1)
    picked_r, picked_c, labels = [], [], []
    for boundary, segment in zip(data.boundaries, data.segments):
        near = distance_transform_edt(boundary == 0) < half
        is_near = near[centre]
        for want, mask in zip(per_annotator, (is_near, ~is_near)):
            where = np.flatnonzero(mask)
            take = rng.permutation(where)[:min(want, len(where))]
            for r, c in zip(rows[take], cols[take]):
                patch = segment[r:r + size, c:c + size]
                labels.append(np.unique(patch, return_inverse=True)[1]
                              .reshape(size, size).astype(np.uint8))
            picked_r.append(rows[take])
            picked_c.append(cols[take])
    if not labels:
        return (np.zeros(0, np.int64), np.zeros(0, np.int64),
                np.zeros((0, size, size), np.uint8))
    return (np.concatenate(picked_r), np.concatenate(picked_c),
            np.stack(labels))


def quantise(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of every value: the number of edges ``<=`` it (``edges`` is
    ``bins - 1 x F``, sorted per feature), so that ``bin < b`` is exactly
    ``value < edges[b - 1]``."""
    out = np.empty(values.shape, np.uint8)
    for j in range(values.shape[1]):
        out[:, j] = np.searchsorted(edges[:, j], values[:, j], side='right')
    return out


@njit(cache=True, nogil=True)
def same_segment(segs, idx, first, second):
    """``len(idx) x len(first)``: 1 where the patch ``segs[idx[s]]`` has
    pixels ``first[p]`` and ``second[p]`` in one segment."""
    out = np.empty((len(idx), len(first)), np.float32)
    for s in range(len(idx)):
        seg = segs[idx[s]]
        for p in range(len(first)):
            out[s, p] = 1.0 if seg[first[p]] == seg[second[p]] else 0.0
    return out


@njit(cache=True, nogil=True)
def best_split(X, idx, feats, labels, bins):
    """Lowest count-weighted Gini over ``feats`` and thresholds
    ``bin < b``: ``(feature, b, gini)``."""
    hist = np.zeros((len(feats), bins, 2), np.int64)
    for s in range(len(idx)):
        row = X[idx[s]]
        lab = labels[s]
        for j in range(len(feats)):
            hist[j, row[feats[j]], lab] += 1
    n = len(idx)
    n1 = 0
    for s in range(n):
        n1 += labels[s]
    n0 = n - n1
    best_f, best_b, best_g = -1, -1, np.inf
    for j in range(len(feats)):
        l0 = 0
        l1 = 0
        for b in range(1, bins):
            l0 += hist[j, b - 1, 0]
            l1 += hist[j, b - 1, 1]
            nl = l0 + l1
            nr = n - nl
            if nl == 0 or nr == 0:
                continue
            if hist[j, b - 1, 0] + hist[j, b - 1, 1] == 0 and b > 1:
                continue  # same split as b - 1
            r0 = n0 - l0
            r1 = n1 - l1
            g = (nl - (l0 * l0 + l1 * l1) / nl) + (
                nr - (r0 * r0 + r1 * r1) / nr)
            if g < best_g:
                best_f, best_b, best_g = j, b, g
    return best_f, best_b, best_g


def first_component(z: np.ndarray, iterations: int = 100,
                    tol: float = 1e-7) -> np.ndarray:
    """Leading eigenvector of ``z^T z`` by power iteration, started at the
    largest-variance axis."""
    cov = z.T @ z
    v = np.zeros(cov.shape[0], cov.dtype)
    v[int(np.argmax(np.diag(cov)))] = 1.0
    for _ in range(iterations):
        u = cov @ v
        norm = np.linalg.norm(u)
        if norm == 0:
            break
        u /= norm
        if np.abs(u - v).max() < tol:
            return u
        v = u
    return v


def discretize(segs: np.ndarray, idx: np.ndarray, pair_table: np.ndarray,
               opts: TrainOptions, rng: np.random.Generator
               ) -> tuple[np.ndarray, int]:
    """Two classes for the node's segmentation patches (``discretize`` of
    ``edgesTrain.m``) and the index (into ``idx``) of the most
    representative one. ``segs`` is ``N x P`` (flattened patches); all one
    class when the sampled indicators do not vary."""
    pick = rng.choice(len(pair_table), min(opts.pairs, len(pair_table)),
                      replace=False)
    z = same_segment(segs, idx, pair_table[pick, 0], pair_table[pick, 1])
    z -= z.mean(0)
    z = z[:, np.abs(z).max(0) > 0]
    if z.shape[1] == 0:
        return np.zeros(len(idx), np.int64), 0
    representative = int(np.argmin((z * z).sum(1)))
    rows = z
    if len(z) > opts.pca_rows:
        rows = z[rng.choice(len(z), opts.pca_rows, replace=False)]
    direction = first_component(rows.astype(np.float64))
    return (z @ direction < 0).astype(np.int64), representative


@dataclass
class Tree:
    """One trained tree, nodes in the toolbox's order (a node's children
    are appended as a pair)."""

    child: np.ndarray  # 0 or left child index + 1
    fid: np.ndarray  # global feature id
    thr: np.ndarray
    depth: np.ndarray
    leaf_segs: dict  # node -> label_size x label_size segmentation


def train_tree(X: np.ndarray, segs: np.ndarray, fids: np.ndarray,
               edges: np.ndarray, opts: TrainOptions, label_size: int,
               rng: np.random.Generator) -> Tree:
    """A structured tree on ``X`` (``N x len(fids)`` quantile bins) and the
    flattened segmentation patches ``segs`` (``N x label_size^2``).
    ``edges`` are the bin edges of ``fids`` (``bins - 1 x len(fids)``)."""
    n_features = X.shape[1]
    per_node = min(n_features, max(1, round(math.sqrt(n_features))))
    pair_table = np.stack(np.triu_indices(label_size * label_size, 1), 1)
    child, fid, thr, depth, leaf_segs = [0], [0], [0.0], [0], {}
    members = {0: np.arange(len(X))}
    node = 0
    while node < len(child):
        idx = members.pop(node)
        classes, rep = discretize(segs, idx, pair_table, opts, rng)
        pure = classes.min() == classes.max()
        split = None
        if not (pure or len(idx) <= opts.min_count
                or depth[node] > opts.max_depth):
            feats = np.sort(rng.choice(n_features, per_node, replace=False))
            j, b, _ = best_split(X, idx, feats, classes, opts.bins)
            if j >= 0:
                left = X[idx, feats[j]] < b
                if min(left.sum(), (~left).sum()) >= opts.min_child:
                    split = (feats[j], b, left)
        if split is None:
            leaf_segs[node] = segs[idx[rep]].reshape(label_size, label_size)
        else:
            f, b, left = split
            child[node] = len(child) + 1
            fid[node] = int(fids[f])
            thr[node] = float(edges[b - 1, f])
            members[len(child)] = idx[left]
            members[len(child) + 1] = idx[~left]
            child += [0, 0]
            fid += [0, 0]
            thr += [0.0, 0.0]
            depth += [depth[node] + 1] * 2
        node += 1
    return Tree(np.array(child, np.int64), np.array(fid, np.int64),
                np.array(thr, np.float32), np.array(depth, np.int64),
                leaf_segs)


def merge_small_segments(seg: np.ndarray, max_pixels: int = 5) -> np.ndarray:
    """``mergeTrees``: every segment of at most ``max_pixels`` pixels takes
    the rounded median label of itself and its 8-neighbourhood (in label
    order, each seeing the earlier merges), then labels are renumbered."""
    seg = seg.astype(np.float64)
    labels = np.unique(seg)
    if len(labels) == 1:
        return np.zeros(seg.shape, np.uint8)
    changed = False
    for value in labels:
        mask = seg == value
        if mask.sum() > max_pixels:
            continue
        around = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8),
                            borderType=cv2.BORDER_REFLECT) > 0
        seg[mask] = np.floor(np.median(seg[around]) + 0.5)
        changed = True
    if changed:
        seg = np.unique(seg, return_inverse=True)[1].reshape(seg.shape)
    return seg.astype(np.uint8)


def leaf_edge_bins(seg: np.ndarray) -> np.ndarray:
    """Edge pixels of a segmentation patch (after
    :func:`merge_small_segments`), column-major indices
    (:func:`~.structured_forest.segment_edges`)."""
    seg = merge_small_segments(seg)
    if seg.max() == 0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(segment_edges(seg).T)


def assemble_forest(trees: Sequence[Tree], opts: ForestOptions,
                    provenance: dict | None = None) -> StructuredForest:
    """Trees padded to one node count, leaves' edge pixels tabulated, the
    segmentations of leaves with a boundary kept for sharpening."""
    nodes = max(len(t.child) for t in trees)
    shape = (len(trees), nodes)
    child = np.zeros(shape, np.int64)
    fid = np.zeros(shape, np.int64)
    thr = np.zeros(shape, np.float32)
    counts = np.zeros(shape, np.int64)
    seg_index = np.full(shape, -1, np.int32)
    bins, segs = [], []
    for i, t in enumerate(trees):
        child[i, :len(t.child)] = t.child
        fid[i, :len(t.fid)] = t.fid
        thr[i, :len(t.thr)] = t.thr
        for node in range(len(t.child)):
            if node in t.leaf_segs:
                seg = merge_small_segments(t.leaf_segs[node])
                if seg.max() == 0:
                    continue
                b = np.flatnonzero(segment_edges(seg).T)
                counts[i, node] = len(b)
                bins.append(b)
                seg_index[i, node] = len(segs)
                segs.append(seg)
    bounds = np.concatenate([[0], np.cumsum(counts.ravel())])
    label = (0, opts.label_size, opts.label_size)
    return StructuredForest(
        opts, child, fid, thr, bounds,
        np.concatenate(bins) if bins else np.zeros(0, np.int64),
        provenance or {},
        np.stack(segs) if segs else np.zeros(label, np.uint8), seg_index)


def tree_seed(seed: int, tree: int) -> np.random.Generator:
    return np.random.default_rng([seed, tree])


def pilot_edges(images: Sequence[Annotated], opts: ForestOptions,
                train: TrainOptions) -> np.ndarray:
    """Quantile bin edges (``bins - 1 x F`` float32) of all features from
    ``pilot_per_image`` random patches of every image."""
    rng = np.random.default_rng([train.seed, 10**6])
    values = []
    for data in images:
        reg, sim = compute_channels(data.rgb, opts)
        h, w = data.rgb.shape[:2]
        size = opts.label_size
        rows = rng.integers(0, (h - size) // opts.shrink + 1,
                            train.pilot_per_image) * opts.shrink
        cols = rng.integers(0, (w - size) // opts.shrink + 1,
                            train.pilot_per_image) * opts.shrink
        values.append(gather_features(reg, sim, rows // opts.shrink,
                                      cols // opts.shrink,
                                      np.arange(opts.features), opts))
    values = np.concatenate(values)
    q = np.linspace(0, 1, train.bins + 1)[1:-1]
    return np.quantile(values, q, axis=0).astype(np.float32)


def tree_data(images: Sequence[Annotated], fids: np.ndarray,
              edges: np.ndarray, opts: ForestOptions, train: TrainOptions,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A tree's quantised features (``N x len(fids)`` uint8) and flattened
    segmentation patches, sampled as ``edgesTrain.m`` does."""
    xs, segs = [], []
    for data in images:
        annotators = max(1, len(data.boundaries))
        per = (math.ceil(train.positives / len(images) / annotators),
               math.ceil(train.negatives / len(images) / annotators))
        rows, cols, labels = sample_positions(data, opts, per, rng)
        if not len(rows):
            continue
        reg, sim = compute_channels(data.rgb, opts)
        values = gather_features(reg, sim, rows // opts.shrink,
                                 cols // opts.shrink, fids, opts)
        xs.append(quantise(values, edges))
        segs.append(labels.reshape(len(labels), -1))
    if not xs:
        raise ValueError('no training patch: images smaller than a label '
                         'patch or without annotations')
    return np.concatenate(xs), np.concatenate(segs)


class TreeJob:
    """Trains and writes one tree (picklable for workers): ``tree_NNN.npz``
    in ``work_dir``, atomically; an existing file is kept (resume)."""

    def __init__(self, images: Sequence[Annotated], edges: np.ndarray,
                 work_dir: str, opts: ForestOptions,
                 train: TrainOptions) -> None:
        self.images = images
        self.edges = edges
        self.work_dir = work_dir
        self.opts = opts
        self.train = train

    def path(self, tree: int) -> str:
        return osp.join(self.work_dir, f'tree_{tree:03d}.npz')

    def __call__(self, tree: int) -> dict:
        path = self.path(tree)
        if osp.isfile(path):
            return {'tree': tree, 'resumed': True}
        start = time.perf_counter()
        rng = tree_seed(self.train.seed, tree)
        n_keep = round(self.opts.features * self.train.feature_fraction)
        fids = np.sort(rng.choice(self.opts.features, n_keep, replace=False))
        X, segs = tree_data(self.images, fids, self.edges[:, fids],
                            self.opts, self.train, rng)
        sampled = time.perf_counter() - start
        t = train_tree(X, segs, fids, self.edges[:, fids], self.train,
                       self.opts.label_size, rng)
        leaves = np.array(sorted(t.leaf_segs), np.int64)
        with atomic_path(path) as tmp:
            np.savez_compressed(
                tmp, child=t.child, fid=t.fid, thr=t.thr, depth=t.depth,
                leaves=leaves,
                leaf_segs=np.stack([t.leaf_segs[i] for i in leaves]))
        return {'tree': tree, 'patches': int(len(X)), 'nodes': len(t.child),
                'max_depth': int(t.depth.max()),
                'sample_seconds': round(sampled, 1),
                'seconds': round(time.perf_counter() - start, 1)}


def load_tree(path: str) -> Tree:
    with np.load(path, allow_pickle=False) as f:
        return Tree(f['child'], f['fid'], f['thr'], f['depth'],
                    dict(zip(f['leaves'].tolist(), f['leaf_segs'])))


def train_forest(images: Sequence[Annotated], work_dir: str,
                 opts: ForestOptions = ForestOptions(),
                 train: TrainOptions = TrainOptions(), workers: int = 1,
                 trees: Sequence[int] | None = None,
                 provenance: dict | None = None) -> dict:
    """Train the trees of ``trees`` (default all) into ``work_dir`` (one
    file per tree, resumable; the quantile edges in ``edges.npy``), in
    ``workers`` processes; once every tree exists, assemble the forest into
    ``forest.npz`` and OpenCV's ``model.yml.gz``. Returns per-tree records,
    whether the forest is complete and the model's path."""
    from mmssl_seg.priors.hierarchy.structured_forest import (
        write_opencv_model,
    )
    from mmssl_seg.utils.parallel import parallel_map
    os.makedirs(work_dir, exist_ok=True)
    edges_path = osp.join(work_dir, 'edges.npy')
    if osp.isfile(edges_path):
        edges = np.load(edges_path)
    else:
        edges = pilot_edges(images, opts, train)
        with atomic_path(edges_path) as tmp:
            np.save(tmp, edges)
    job = TreeJob(images, edges, work_dir, opts, train)
    todo = list(range(opts.trees)) if trees is None else list(trees)
    records = sorted(parallel_map(job, todo, min(workers, len(todo)),
                                  'structured edge trees'),
                     key=lambda r: r['tree'])
    complete = all(osp.isfile(job.path(i)) for i in range(opts.trees))
    if complete:
        forest = assemble_forest(
            [load_tree(job.path(i)) for i in range(opts.trees)], opts,
            {**(provenance or {}), **{k: str(v) for k, v in
                                      dataclasses.asdict(train).items()}})
        forest.save(osp.join(work_dir, 'forest.npz'))
        model = osp.join(work_dir, 'model.yml.gz')
        write_opencv_model(forest, model)
        return {'trees': records, 'complete': True, 'model': model}
    return {'trees': records, 'complete': False}


def bsds_images(root: str, splits: Sequence[str]) -> list[tuple[str, str]]:
    """``(image, groundTruth .mat)`` of the BSDS splits, sorted."""
    pairs = []
    for split in splits:
        folder = osp.join(root, 'images', split)
        if not osp.isdir(folder):
            raise FileNotFoundError(f'no BSDS images at {folder}')
        for name in sorted(os.listdir(folder)):
            if name.endswith('.jpg'):
                pairs.append((osp.join(folder, name),
                              osp.join(root, 'groundTruth', split,
                                       name[:-4] + '.mat')))
    if not pairs:
        raise FileNotFoundError(f'no BSDS image in {root} {list(splits)}')
    return pairs


def train_from_bsds(root: str, splits: Sequence[str], work_dir: str,
                    opts: ForestOptions = ForestOptions(),
                    train: TrainOptions = TrainOptions(), workers: int = 1,
                    shard_spec: tuple[int, int] = (1, 1)) -> dict:
    """:func:`train_forest` on BSDS splits, this shard's trees, with the
    tool's manifest (parameters, per tree patches / nodes / seconds)."""
    from mmssl_seg.priors.manifest import Manifest, shard
    pairs = bsds_images(root, splits)
    params = {'data': osp.abspath(root), 'splits': list(splits),
              'images': len(pairs), 'forest': dataclasses.asdict(opts),
              'train': dataclasses.asdict(train),
              'approximations': {'split_search': f'{train.bins} quantile '
                                 'bins per feature',
                                 'pca': f'power iteration on at most '
                                 f'{train.pca_rows} patches per node'}}
    manifest = Manifest(work_dir, TOOL, params, shard_spec)
    images = [read_annotated(i, g) for i, g in pairs]
    result = train_forest(
        images, work_dir, opts, train, workers,
        shard(list(range(opts.trees)), *shard_spec),
        {'tool': TOOL, 'data': f'BSDS500 {"+".join(splits)} '
         f'({len(pairs)} images)', 'seed': str(train.seed)})
    for record in result['trees']:
        if not record.get('resumed'):
            manifest.entries[f'tree_{record["tree"]:03d}'] = record
    manifest.save()
    return result
