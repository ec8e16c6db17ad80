"""Maximum-cardinality one-to-one matching of two boundary maps, compiled.

A predicted and an annotated boundary pixel may be matched when they lie
within ``radius`` pixels; the benchmark counts matched pixels, so what it
needs is the size of a maximum matching of this bipartite graph (BSDS'
``correspondPixels`` approximates it with a min-cost assignment on a sparse
graph with random outlier edges). Hopcroft & Karp (SIAM J. Comput. 1973):
greedy start, then phases of one BFS layering from the free predicted
pixels and vertex-disjoint shortest augmenting paths found by an iterative
DFS; O(E sqrt(V)) with no slow cases (scipy's ``maximum_bipartite_matching``
took 147 s on one gPb map of BSDS val where this takes milliseconds,
``benchmarks/bsds.py``).
"""
from __future__ import annotations

import numpy as np
from numba import njit

_UNREACHED = np.iinfo(np.int64).max


@njit(cache=True)
def _window_graph(pred: np.ndarray, gt: np.ndarray, radius: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSR adjacency from predicted to annotated pixels within ``radius``,
    with both pixel lists (flat indices, row-major)."""
    h, w = pred.shape
    reach = int(radius)
    index = np.full(h * w, -1, np.int64)
    gt_pixels = np.flatnonzero(gt.ravel())
    for j in range(gt_pixels.size):
        index[gt_pixels[j]] = j
    pred_pixels = np.flatnonzero(pred.ravel())
    indptr = np.zeros(pred_pixels.size + 1, np.int64)
    indices = np.empty(pred_pixels.size * (2 * reach + 1) ** 2, np.int64)
    count = 0
    for i in range(pred_pixels.size):
        y, x = divmod(pred_pixels[i], w)
        for dy in range(-reach, reach + 1):
            yy = y + dy
            if yy < 0 or yy >= h:
                continue
            for dx in range(-reach, reach + 1):
                xx = x + dx
                if xx < 0 or xx >= w or dy * dy + dx * dx > radius * radius:
                    continue
                j = index[yy * w + xx]
                if j >= 0:
                    indices[count] = j
                    count += 1
        indptr[i + 1] = count
    return indptr, indices[:count], pred_pixels, gt_pixels


@njit(cache=True)
def hopcroft_karp(indptr: np.ndarray, indices: np.ndarray,
                  num_right: int) -> np.ndarray:
    """A maximum matching of a bipartite graph in CSR form (left vertex
    ``u``'s neighbours are ``indices[indptr[u]:indptr[u + 1]]``).

    Returns:
        the right partner of every left vertex, -1 where unmatched.
    """
    num_left = indptr.size - 1
    match_l = np.full(num_left, -1, np.int64)
    match_r = np.full(num_right, -1, np.int64)
    for u in range(num_left):  # greedy start: most pixels match here
        for k in range(indptr[u], indptr[u + 1]):
            if match_r[indices[k]] < 0:
                match_l[u] = indices[k]
                match_r[indices[k]] = u
                break
    dist = np.empty(num_left, np.int64)
    queue = np.empty(num_left, np.int64)
    edge = np.empty(num_left, np.int64)
    path_u = np.empty(num_left, np.int64)
    path_v = np.empty(num_left, np.int64)
    while True:
        # layers of alternating paths from the free left vertices
        tail = 0
        for u in range(num_left):
            if match_l[u] < 0:
                dist[u] = 0
                queue[tail] = u
                tail += 1
            else:
                dist[u] = _UNREACHED
        shortest = _UNREACHED
        head = 0
        while head < tail:
            u = queue[head]
            head += 1
            if dist[u] >= shortest:
                continue
            for k in range(indptr[u], indptr[u + 1]):
                w = match_r[indices[k]]
                if w < 0:
                    shortest = min(shortest, dist[u] + 1)
                elif dist[w] == _UNREACHED:
                    dist[w] = dist[u] + 1
                    queue[tail] = w
                    tail += 1
        if shortest == _UNREACHED:
            return match_l
        # vertex-disjoint shortest augmenting paths along the layers
        for u in range(num_left):
            edge[u] = indptr[u]
        for start in range(num_left):
            if match_l[start] >= 0 or dist[start] != 0:
                continue
            top = 0
            path_u[0] = start
            while top >= 0:
                u = path_u[top]
                pushed = False
                while edge[u] < indptr[u + 1]:
                    v = indices[edge[u]]
                    edge[u] += 1
                    w = match_r[v]
                    if w < 0:
                        if dist[u] + 1 != shortest:
                            continue
                        path_v[top] = v
                        for level in range(top + 1):  # flip the path
                            match_l[path_u[level]] = path_v[level]
                            match_r[path_v[level]] = path_u[level]
                        top = -1
                        pushed = True
                        break
                    if dist[w] == dist[u] + 1:
                        path_v[top] = v
                        top += 1
                        path_u[top] = w
                        pushed = True
                        break
                if not pushed:  # dead end: never try it again this phase
                    dist[u] = _UNREACHED
                    top -= 1


def match_boundaries(pred: np.ndarray, gt: np.ndarray, radius: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Matched pixels of two boundary maps under a maximum one-to-one
    matching of the pixels within ``radius`` (in pixels)."""
    pred = np.ascontiguousarray(pred, dtype=np.bool_)
    gt = np.ascontiguousarray(gt, dtype=np.bool_)
    if pred.shape != gt.shape:
        raise ValueError(f'boundary maps of {pred.shape} and {gt.shape}')
    indptr, indices, pred_pixels, gt_pixels = _window_graph(
        pred, gt, float(radius))
    partner = hopcroft_karp(indptr, indices, gt_pixels.size)
    matched = partner >= 0
    match_p = np.zeros(pred.size, bool)
    match_g = np.zeros(pred.size, bool)
    match_p[pred_pixels[matched]] = True
    match_g[gt_pixels[partner[matched]]] = True
    return match_p.reshape(pred.shape), match_g.reshape(pred.shape)
