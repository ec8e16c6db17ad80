"""Structured edge forests (Dollar and Zitnick, "Structured Forests for Fast
Edge Detection", ICCV 2013 / TPAMI 2015): the model, its features and its
inference, in the layout of OpenCV's ``ximgproc.StructuredEdgeDetection``.

A forest maps a 32 x 32 image patch to a 16 x 16 edge patch: each tree
routes the patch's features to a leaf, the leaf holds the boundary pixels of
a segmentation patch, and the edge map is the average of the leaves' edge
patches over the overlapping patches (stride 2) and 4 of the trees (rotating
with the position). Features (sec. 4.1 of the TPAMI paper): 13 channels at
half resolution (LUV colour; gradient magnitude and 4 oriented gradient
histograms, at full and half scale) taken pixel by pixel in the patch after a
radius-2 triangle smoothing (3 328), and the differences of the channels'
values at the 5 x 5 grid cells after a radius-8 smoothing (self-similarity,
3 900).

The channels come from OpenCV's own ``RFFeatureGetter`` (the code that
``detectEdges`` runs), so a forest trained on them and written by
:func:`write_opencv_model` gives in ``cv2.ximgproc`` the edges of
:meth:`StructuredForest.edges` (tested). The SE toolbox's sharpening, which
OpenCV lacks, runs in :meth:`StructuredForest.edges` only, on the leaves'
segmentations our archive keeps. Training: :mod:`.structured_forest_train`.
"""
from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import os.path as osp
from dataclasses import dataclass

import cv2
import numpy as np
from numba import njit  # this module is imported only where a forest runs

from mmssl_seg.utils.errors import ArgumentError
from mmssl_seg.utils.io import atomic_path

#: Written into every model file; a file from another version is refused.
FORMAT = 'mmssl_seg.structured_forest/1'
#: ``edgesDetect.m``'s vote scale for sharpening 0, 1 and 2.
SHARPEN_SCALE = {0: 2.0, 1: 1.8, 2: 1.66}


@dataclass(frozen=True)
class ForestOptions:
    """The SE paper's parameters (``edgesTrain.m`` defaults).

    Args:
        patch_size: Image patch width (``imWidth``).
        label_size: Segmentation / edge patch width (``gtWidth``).
        shrink: Channel downsampling.
        orientations: Gradient orientations per scale.
        grad_smooth: Triangle radius before the gradients.
        reg_smooth: Triangle radius of the pixel features.
        sim_smooth: Triangle radius of the self-similarity features.
        norm_radius: Gradient normalisation radius.
        cells: Self-similarity grid (``nCells`` x ``nCells``).
        stride: Detection stride.
        trees: Trees in the forest.
        trees_eval: Trees evaluated per location.
    """

    patch_size: int = 32
    label_size: int = 16
    shrink: int = 2
    orientations: int = 4
    grad_smooth: int = 0
    reg_smooth: int = 2
    sim_smooth: int = 8
    norm_radius: int = 4
    cells: int = 5
    stride: int = 2
    trees: int = 8
    trees_eval: int = 4

    @property
    def channels(self) -> int:
        return 2 * (self.orientations + 1) + 3

    @property
    def padding(self) -> int:
        return (self.patch_size - self.label_size) // 2

    @property
    def reg_features(self) -> int:
        return (self.patch_size // self.shrink)**2 * self.channels

    @property
    def sim_features(self) -> int:
        n = self.cells**2
        return n * (n - 1) // 2 * self.channels

    @property
    def features(self) -> int:
        return self.reg_features + self.sim_features


def tri_smooth(x: np.ndarray, radius: int) -> np.ndarray:
    """OpenCV's / the SE toolbox's ``convTri``: a separable triangle filter
    of ``radius`` (radius 1: ``[1 p 1] / (p + 2)``, ``p = 12 / r / (r + 2) -
    2``), the border reflected without repeating the edge pixel."""
    if radius == 0:
        return x
    if radius <= 1:
        p = np.float32(12.0 / radius / (radius + 2) - 2)
        kernel = np.array([1, p, 1], np.float32) / np.float32(p + 2)
    else:
        ramp = np.arange(1, radius + 2, dtype=np.float32)
        kernel = np.concatenate([ramp, ramp[-2::-1]]) / np.float32(
            (radius + 1.0)**2)
    return cv2.sepFilter2D(x, -1, kernel, kernel)


def compute_channels(rgb: np.ndarray,
                     opts: ForestOptions) -> tuple[np.ndarray, np.ndarray]:
    """The pixel-feature and self-similarity channels of an RGB image in
    [0, 1] (``H x W x 3`` float32), reflect-padded by ``opts.padding`` as
    ``detectEdges`` does: ``(reg, sim)``, each ``h x w x channels`` with
    ``h = round(H / shrink + padding)`` (OpenCV's rounding, half to even)."""
    pad = opts.padding
    padded = cv2.copyMakeBorder(np.ascontiguousarray(rgb, np.float32),
                                pad, pad, pad, pad, cv2.BORDER_REFLECT)
    h, w = padded.shape[:2]
    # OpenCV sizes the output itself (Size / float, rounded half to even)
    # and writes into the array only when it has exactly that size
    features = np.zeros((round(h / opts.shrink), round(w / opts.shrink),
                         opts.channels), np.float32)
    cv2.ximgproc.createRFFeatureGetter().getFeatures(
        padded, features, opts.norm_radius, opts.grad_smooth, opts.shrink,
        opts.channels, opts.orientations)
    reg = tri_smooth(features, round(opts.reg_smooth / opts.shrink))
    sim = tri_smooth(features, round(opts.sim_smooth / opts.shrink))
    return (np.ascontiguousarray(reg, np.float32),
            np.ascontiguousarray(sim, np.float32))


def grid_positions(opts: ForestOptions) -> np.ndarray:
    """The self-similarity cells' centres in the shrunk patch
    (``edgesTrain.m``'s ``stComputeSimFtrs``; [1, 4, 8, 11, 14] by
    default)."""
    w, n = opts.patch_size // opts.shrink, opts.cells
    half = int(np.floor(w / (2.0 * n) + 0.5))
    return np.array([int((i + 1) * (w + 2 * half - 1) / (n + 1.0) - half +
                         0.5) for i in range(n)], np.int64)


@functools.lru_cache(maxsize=4)
def feature_table(opts: ForestOptions) -> np.ndarray:
    """``F x 6`` int: for every feature id, ``(row, col, channel)`` of the
    value and, for self-similarity features, of the value subtracted
    (``-1`` for pixel features). Ids follow the SE toolbox (column-major
    patches): pixel feature ``c * w^2 + col * w + row``, then per channel
    the cell pairs ``(a, b)``, ``a < b``, cells numbered column-major."""
    w, ch = opts.patch_size // opts.shrink, opts.channels
    table = np.full((opts.features, 6), -1, np.int64)
    fid = np.arange(opts.reg_features)
    table[:opts.reg_features, 0] = fid % w  # row
    table[:opts.reg_features, 1] = fid % (w * w) // w  # col
    table[:opts.reg_features, 2] = fid // (w * w)
    pos, n = grid_positions(opts), opts.cells**2
    a, b = np.triu_indices(n, 1)
    pairs = np.stack([pos[a % opts.cells], pos[a // opts.cells],
                      pos[b % opts.cells], pos[b // opts.cells]], 1)
    rows = []
    for c in range(ch):
        rows.append(np.column_stack([pairs[:, :2], np.full(len(a), c),
                                     pairs[:, 2:], np.full(len(a), c)]))
    table[opts.reg_features:] = np.concatenate(rows)
    return table


@njit(cache=True, nogil=True)
def _feature_value(reg, sim, table, fid, r, c):
    if table[fid, 3] < 0:
        return reg[r + table[fid, 0], c + table[fid, 1], table[fid, 2]]
    return (sim[r + table[fid, 0], c + table[fid, 1], table[fid, 2]] -
            sim[r + table[fid, 3], c + table[fid, 4], table[fid, 5]])


@njit(cache=True, nogil=True)
def _gather(reg, sim, table, rows, cols, fids):
    out = np.empty((len(rows), len(fids)), np.float32)
    for s in range(len(rows)):
        for j in range(len(fids)):
            out[s, j] = _feature_value(reg, sim, table, fids[j], rows[s],
                                       cols[s])
    return out


@njit(cache=True, nogil=True)
def _leaf(reg, sim, table, child, fid, thr, t, r, c):
    """The leaf of tree ``t`` the patch at channel position ``(r, c)``
    reaches."""
    node = 0
    while child[t, node] != 0:
        v = _feature_value(reg, sim, table, fid[t, node], r, c)
        if v < thr[t, node]:
            node = child[t, node] - 1
        else:
            node = child[t, node]
    return node


@njit(cache=True, nogil=True)
def _predict(reg, sim, table, child, fid, thr, bounds, bins, height, width,
             stride, shrink, trees_eval, label_size, out, step):
    trees, nodes = child.shape
    for i in range(height):
        for j in range(width):
            r, c = i * stride // shrink, j * stride // shrink
            for k in range(trees_eval):
                t = ((i + j) % (2 * trees_eval) + k) % trees
                node = _leaf(reg, sim, table, child, fid, thr, t, r, c)
                g = t * nodes + node
                for p in range(bounds[g], bounds[g + 1]):
                    b = bins[p] % (label_size * label_size)
                    y = i * stride + b % label_size
                    x = j * stride + b // label_size
                    if y < out.shape[0] and x < out.shape[1]:
                        out[y, x] += step


@njit(cache=True, nogil=True)
def _predict_sharpened(reg, sim, table, child, fid, thr, seg_index, segs,
                       num_segs, ring_bounds, ring_bins, image, height, width,
                       stride, shrink, trees_eval, label_size, sharpen, out,
                       step):
    """``edgesDetectMex``'s sharpening loop: per patch and tree, the leaf's
    segmentation (column-major) gets a mean colour per segment from every
    other pixel of ``image`` under it; the pixels of rings ``0..sharpen-1``
    around its boundary (in ring order, seeing the earlier changes) take the
    4-neighbour segment closest in colour; pixels of rings ``0..sharpen``
    whose label differs from a 4-neighbour vote ``step``."""
    trees, nodes = child.shape
    g = label_size
    nbr = np.empty((g * g, 4), np.int64)
    for cc in range(g):
        for rr in range(g):
            p = cc * g + rr
            nbr[p, 0] = p - g if cc > 0 else p
            nbr[p, 1] = p + g if cc < g - 1 else p
            nbr[p, 2] = p - 1 if rr > 0 else p
            nbr[p, 3] = p + 1 if rr < g - 1 else p
    channels = image.shape[2]
    seg = np.empty(g * g, segs.dtype)
    count = np.empty(256, np.float32)
    mean = np.empty((256, channels), np.float32)
    near = np.empty(4, np.int64)
    for i in range(height):
        for j in range(width):
            r, c = i * stride // shrink, j * stride // shrink
            y0, x0 = i * stride, j * stride
            for k in range(trees_eval):
                t = ((i + j) % (2 * trees_eval) + k) % trees
                row = seg_index[t, _leaf(reg, sim, table, child, fid, thr, t,
                                         r, c)]
                if row < 0:  # one segment: no boundary
                    continue
                m = num_segs[row]
                seg[:] = segs[row]
                count[:m] = 0
                mean[:m] = 0
                for ci in range(0, g, 2):
                    for ri in range(0, g, 2):
                        s = seg[ci * g + ri]
                        count[s] += 1
                        for z in range(channels):
                            mean[s, z] += image[y0 + ri, x0 + ci, z]
                for s in range(m):
                    for z in range(channels):  # unseen segment: never chosen
                        mean[s, z] = (mean[s, z] / count[s] if count[s] > 0
                                      else np.inf)
                for b in range(ring_bounds[row, 0], ring_bounds[row, sharpen]):
                    p = ring_bins[b]
                    for q in range(4):
                        near[q] = seg[nbr[p, q]]
                    best, best_err = -1, np.float32(1e10)
                    for q in range(4):
                        s = near[q]
                        if s == best:
                            continue
                        err = np.float32(0)
                        for z in range(channels):
                            d = mean[s, z] - image[y0 + p % g, x0 + p // g, z]
                            err += d * d
                        if err < best_err:
                            best, best_err = s, err
                    if best >= 0:
                        seg[p] = best
                for b in range(ring_bounds[row, 0],
                               ring_bounds[row, sharpen + 1]):
                    p = ring_bins[b]
                    s = seg[p]
                    if (s != seg[nbr[p, 0]] or s != seg[nbr[p, 1]]
                            or s != seg[nbr[p, 2]] or s != seg[nbr[p, 3]]):
                        y, x = y0 + p % g, x0 + p // g
                        if y < out.shape[0] and x < out.shape[1]:
                            out[y, x] += step


@njit(cache=True)
def suppress_non_maxima(e, o, r, m):
    """The loop of :func:`~mmssl_seg.priors.hierarchy.edges.thin_edges`,
    float32 throughout as the C++ (ties decide which pixels stay)."""
    f32 = np.float32
    h, w = e.shape
    out = e.copy()
    for y in range(h):
        for x in range(w):
            v = e[y, x]
            if v == 0:
                continue
            v *= m
            co, si = np.cos(o[y, x]), np.sin(o[y, x])
            for d in range(-r, r + 1):
                if d == 0:
                    continue
                yy = f32(y) + f32(d) * si
                xx = f32(x) + f32(d) * co
                yy = min(max(yy, f32(0)), f32(h - 1.001))
                xx = min(max(xx, f32(0)), f32(w - 1.001))
                y0, x0 = int(yy), int(xx)
                dy, dx = yy - f32(y0), xx - f32(x0)
                dy1, dx1 = f32(1) - dy, f32(1) - dx
                near = (e[y0, x0] * dx1 * dy1 +
                        e[y0, x0 + 1] * dx * dy1 +
                        e[y0 + 1, x0] * dx1 * dy +
                        e[y0 + 1, x0 + 1] * dx * dy)
                if v < near:
                    out[y, x] = 0
                    break
    return out


def segment_edges(seg: np.ndarray) -> np.ndarray:
    """The boundary pixels of a segmentation patch (or a stack of them, the
    last two axes): where the label image's central-difference gradient
    (one-sided at the border, as the toolbox's ``gradientMag``) is
    non-zero."""
    gy, gx = np.gradient(seg.astype(np.float32), axis=(-2, -1))
    return np.hypot(gx, gy) > 0.01


def edge_rings(segs: np.ndarray,
               rings: int) -> tuple[np.ndarray, np.ndarray]:
    """``mergeTrees``' ``eBins`` of ``n`` segmentation patches
    (``n x g x g``): ring 0 the boundary pixels (:func:`segment_edges`),
    ring ``j`` the pixels 8-connected to ring ``j - 1`` that no earlier ring
    holds (the pixels sharpening may relabel and re-examine). Returns
    ``bounds`` (``n x rings + 1``: patch ``i``'s ring ``j`` is
    ``bins[bounds[i, j]:bounds[i, j + 1]]``) and the column-major ids."""
    g = segs.shape[1]
    mask = segment_edges(segs)
    seen = np.zeros_like(mask)
    per_ring = np.zeros((len(segs), rings, g, g), bool)
    for j in range(rings):
        per_ring[:, j] = mask & ~seen
        seen = mask
        grown = np.pad(mask, ((0, 0), (1, 1), (1, 1)), mode='edge')
        mask = np.zeros_like(mask)
        for dy in range(3):
            for dx in range(3):
                mask |= grown[:, dy:dy + g, dx:dx + g]
    # C order of (patch, ring, col, row): patch by patch, ring by ring,
    # column-major within a ring
    _, _, col, row = np.nonzero(per_ring.transpose(0, 1, 3, 2))
    counts = per_ring.sum((2, 3)).ravel()
    bounds = np.zeros(counts.size + 1, np.int64)
    np.cumsum(counts, out=bounds[1:])
    starts = bounds[:-1].reshape(len(segs), rings)
    ends = bounds[1:].reshape(len(segs), rings)[:, -1:]
    return np.concatenate([starts, ends], 1), col * g + row


def gather_features(reg: np.ndarray, sim: np.ndarray, rows: np.ndarray,
                    cols: np.ndarray, fids: np.ndarray,
                    opts: ForestOptions) -> np.ndarray:
    """``len(rows) x len(fids)`` features of the patches whose top-left
    corner in the channels is ``(rows, cols)``."""
    return _gather(reg, sim, feature_table(opts), np.asarray(rows, np.int64),
                   np.asarray(cols, np.int64), np.asarray(fids, np.int64))


@dataclass
class StructuredForest:
    """A trained forest, every tree padded to ``nodes`` nodes.

    Args:
        options: The model's parameters.
        child: ``trees x nodes``: 0 at a leaf, else the left child's index
            plus one (the right child follows it; the SE toolbox's 1-based
            ``child``).
        fid: Feature id split on (:func:`feature_table`).
        thr: A feature ``< thr`` goes left.
        bounds: ``trees * nodes + 1``: node ``g = tree * nodes + node``'s
            edge pixels are ``bins[bounds[g]:bounds[g + 1]]``.
        bins: Edge pixels of the leaves' segmentation patches, column-major
            (``col * label_size + row``).
        provenance: How the forest was made (written into the model file).
        segs: ``n x label_size x label_size`` uint8: the segmentation
            patches (small segments merged) of the leaves with more than one
            segment, for sharpening; ``None`` in forests without them.
        seg_index: ``trees x nodes``: the row of ``segs`` of a leaf, -1 for
            other nodes and one-segment leaves.
    """

    options: ForestOptions
    child: np.ndarray
    fid: np.ndarray
    thr: np.ndarray
    bounds: np.ndarray
    bins: np.ndarray
    provenance: dict = dataclasses.field(default_factory=dict)
    segs: np.ndarray | None = None
    seg_index: np.ndarray | None = None
    _tables: tuple | None = dataclasses.field(default=None, init=False,
                                              repr=False, compare=False)

    def edges(self, rgb: np.ndarray, sharpen: int = 0) -> np.ndarray:
        """The edge map of an RGB image in [0, 1] (``H x W`` float32).

        ``sharpen=0``: what OpenCV's ``detectEdges`` computes with this
        forest (same channels, same tree rotation, same vote per leaf pixel
        ``2 stride^2 / label_size^2 / trees_eval``, a final radius-1
        triangle). ``sharpen=1, 2``: the SE toolbox's sharpening (TPAMI sec.
        4.3, ``edgesDetect``'s ``sharpen``, 2 in its SE results), which
        OpenCV lacks: each leaf's segmentation snaps to the colours of the
        image (RGB after a radius-1 triangle) under the patch before its
        boundary votes, with the vote scaled by 1.8 / 1.66 instead of 2.
        Needs the forest's ``segs``."""
        if sharpen not in SHARPEN_SCALE:
            raise ArgumentError(f'sharpen must be 0, 1 or 2, got {sharpen}')
        if sharpen and self.segs is None:
            raise ArgumentError(
                'sharpening needs the leaves\' segmentations, which this '
                'forest lacks (an OpenCV model file has none): use the '
                'forest.npz that tools/priors/train_structured_edges.py '
                'writes')
        opts = self.options
        reg, sim = compute_channels(rgb, opts)
        height = int(np.ceil((reg.shape[0] * opts.shrink - opts.patch_size)
                             / opts.stride))
        width = int(np.ceil((reg.shape[1] * opts.shrink - opts.patch_size)
                            / opts.stride))
        out = np.zeros(rgb.shape[:2], np.float32)
        trees_eval = min(opts.trees_eval, self.child.shape[0])
        step = np.float32(SHARPEN_SCALE[sharpen] * opts.stride**2 /
                          opts.label_size**2 / opts.trees_eval)
        common = (reg, sim, feature_table(opts), self.child.astype(np.int64),
                  self.fid.astype(np.int64), self.thr.astype(np.float32))
        if not sharpen:
            _predict(*common, self.bounds.astype(np.int64),
                     self.bins.astype(np.int64), height, width, opts.stride,
                     opts.shrink, trees_eval, opts.label_size, out, step)
            return tri_smooth(out, 1)
        # the colours under every patch's label area, in image coordinates
        pad, g = opts.padding, opts.label_size
        colour = tri_smooth(cv2.copyMakeBorder(
            np.ascontiguousarray(rgb, np.float32), pad, pad + g, pad,
            pad + g, cv2.BORDER_REFLECT), 1)[pad:, pad:]
        segs, num_segs, ring_bounds, ring_bins = self._sharpening_tables()
        _predict_sharpened(
            *common, self.seg_index.astype(np.int64), segs, num_segs,
            ring_bounds, ring_bins,
            np.ascontiguousarray(colour), height, width, opts.stride,
            opts.shrink, trees_eval, g, sharpen, out, step)
        return tri_smooth(out, 1)

    def _sharpening_tables(self) -> tuple[np.ndarray, ...]:
        """Column-major segmentations, their segment counts and their rings
        0..2 (bounds ``n x 4``, ids), built once per forest."""
        if self._tables is None:
            ring_bounds, ring_bins = edge_rings(self.segs, len(SHARPEN_SCALE))
            segs = np.ascontiguousarray(
                self.segs.transpose(0, 2, 1).reshape(len(self.segs), -1))
            num_segs = segs.max(1).astype(np.int64) + 1
            self._tables = (segs, num_segs, ring_bounds, ring_bins)
        return self._tables

    def save(self, path: str) -> None:
        """Our own archive (``.npz``, arrays only), atomically: the index
        arrays in the smallest integer type that holds them (the packaged
        forest fits the 10 MB a package file may take: 6.8 MB, not 8.1),
        the provenance as JSON, so that :func:`write_opencv_model` of a
        loaded forest gives the bytes of the trainer's model file."""
        extra = ({} if self.segs is None else
                 {'segs': self.segs, 'seg_index': self.seg_index})
        with atomic_path(path) as tmp:
            np.savez_compressed(
                tmp, child=_compact(self.child), fid=_compact(self.fid),
                thr=self.thr, bounds=_compact(self.bounds),
                bins=_compact(self.bins),
                options=np.array(list(dataclasses.astuple(self.options))),
                provenance=np.array(json.dumps(self.provenance,
                                               sort_keys=True)),
                **extra)

    @classmethod
    def load(cls, path: str) -> 'StructuredForest':
        with np.load(path, allow_pickle=False) as f:
            values = [int(v) for v in f['options']]
            segs = {k: f[k] for k in ('segs', 'seg_index') if k in f.files}
            provenance = (json.loads(str(f['provenance']))
                          if 'provenance' in f.files else {})
            # the compiled inference is specialised to int64 indices
            index = {k: f[k].astype(np.int64)
                     for k in ('child', 'fid', 'bounds', 'bins')}
            return cls(ForestOptions(*values), index['child'], index['fid'],
                       f['thr'], index['bounds'], index['bins'],
                       provenance=provenance, **segs)


def _compact(values: np.ndarray) -> np.ndarray:
    """``values`` (integers) in the smallest integer type that holds them."""
    low, high = (int(values.min()), int(values.max())) if values.size else (
        0, 0)
    for dtype in (np.uint8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return values.astype(dtype)
    return values.astype(np.int64)


def _flow(values: np.ndarray, fmt: str, per_line: int = 24) -> str:
    """A YAML flow sequence, wrapped (OpenCV's writer wraps too)."""
    items = [fmt % v for v in values.tolist()]
    lines = [', '.join(items[i:i + per_line])
             for i in range(0, len(items), per_line)]
    return '[ ' + ',\n      '.join(lines) + ' ]'


def write_opencv_model(forest: StructuredForest, path: str) -> None:
    """The forest as OpenCV's ``StructuredEdgeDetection`` model file
    (YAML, gzipped when ``path`` ends in ``.gz``), atomically: the
    ``options`` map and per tree the ``childs``, ``featureIds`` and
    ``thresholds`` sequences, then ``edgeBoundaries`` / ``edgeBins``. Our
    ``format`` and ``provenance`` keys ride along (OpenCV ignores them)."""
    o = forest.options
    options = {
        'numberOfTrees': forest.child.shape[0],
        'numberOfTreesToEvaluate': o.trees_eval,
        'selfsimilarityGridSize': o.cells, 'stride': o.stride,
        'shrinkNumber': o.shrink, 'patchSize': o.patch_size,
        'patchInnerSize': o.label_size,
        'numberOfGradientOrientations': o.orientations,
        'gradientSmoothingRadius': o.grad_smooth,
        'regFeatureSmoothingRadius': o.reg_smooth,
        'ssFeatureSmoothingRadius': o.sim_smooth,
        'gradientNormalizationRadius': o.norm_radius}
    parts = ['%YAML:1.0', '---', f'format: "{FORMAT}"', 'provenance:']
    parts += [f'   {k}: "{v}"' for k, v in sorted(forest.provenance.items())]
    if not forest.provenance:
        parts[-1] = 'provenance: {}'
    parts.append('options:')
    parts += [f'   {k}: {v}' for k, v in options.items()]
    for key, array, fmt in (('childs', forest.child, '%d'),
                            ('featureIds', forest.fid, '%d'),
                            ('thresholds', forest.thr.astype(np.float32),
                             '%.9g')):
        parts.append(f'{key}:')
        parts += [f'   - {_flow(row, fmt)}' for row in array]
    parts += ['edgeBoundaries:', f'   - {_flow(forest.bounds, "%d")}',
              'edgeBins:', f'   - {_flow(forest.bins, "%d")}', '']
    text = '\n'.join(parts).encode()
    with atomic_path(path) as tmp:
        if path.endswith('.gz'):
            # no timestamp and no file name (the temporary one would go into
            # the header): the same forest, the same bytes
            with open(tmp, 'wb') as raw, gzip.GzipFile(
                    filename='', fileobj=raw, mode='wb', mtime=0) as f:
                f.write(text)
        else:
            with open(tmp, 'wb') as f:
                f.write(text)


def check_opencv_model(path: str) -> dict:
    """Open an OpenCV structured edge model file and check that it holds a
    forest (``options``, ``childs`` of ``numberOfTrees`` equal trees, the
    edge tables); its options and our ``format`` (``None`` for other
    sources, e.g. OpenCV's own model). Raises ``ValueError`` naming the file
    otherwise (OpenCV itself would stop at an assertion)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'structured edge model not found: {path}')
    try:
        fs = cv2.FileStorage(path, cv2.FILE_STORAGE_READ)
        opened = fs.isOpened()
    except (cv2.error, SystemError) as error:  # SystemError wraps cv2.error
        error = error.__cause__ or error
        raise ArgumentError(f'{path} is not an OpenCV structured edge model '
                            f'(not readable by cv2.FileStorage: '
                            f'{str(error).strip().splitlines()[-1]})'
                            ) from None
    if not opened:
        raise ArgumentError(f'{path} is not an OpenCV structured edge model '
                            '(cv2.FileStorage cannot open it)')
    try:
        options = fs.getNode('options')
        missing = [k for k in ('childs', 'featureIds', 'thresholds',
                               'edgeBoundaries', 'edgeBins')
                   if fs.getNode(k).empty()]
        if options.empty() or missing:
            raise ArgumentError(f'{path} is not an OpenCV structured edge '
                                f'model (missing: '
                                f'{", ".join(missing or ["options"])})')
        trees = int(options.getNode('numberOfTrees').real())
        if trees < 1 or fs.getNode('childs').size() != trees:
            raise ArgumentError(f'{path}: numberOfTrees is {trees} but the '
                                f'file holds {fs.getNode("childs").size()} '
                                'trees')
        fmt = fs.getNode('format')
        fmt = None if fmt.empty() else fmt.string()
        if fmt is not None and fmt != FORMAT:
            raise ArgumentError(f'{path} was written as {fmt!r}; this version '
                                f'reads {FORMAT!r}: retrain or convert it')
        keys = ('patchSize', 'patchInnerSize', 'shrinkNumber', 'stride')
        return {'format': fmt, 'trees': trees,
                **{k: int(options.getNode(k).real()) for k in keys}}
    finally:
        fs.release()
