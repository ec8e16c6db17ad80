"""The spectral boundary signal ("sPb" of Arbelaez, Maire, Fowlkes and Malik,
TPAMI 2011, sec. 3.2) computed from an edge map, as hierarchical grouping's
grouping primitive combines it with structured edges (Zhang and Maire,
NeurIPS 2020, sec. 4.1).

Pixels are linked to their neighbours within ``radius`` with the
intervening-contour affinity ``W_ij = exp(-max_{p on the segment ij} E(p) /
rho)``; the generalised eigenvectors ``(D - W) v = lambda D v`` of the
smallest non-zero eigenvalues are smooth inside regions and change across
the image's large-scale boundaries. sPb is ``sum_k |grad v_k| / sqrt(
lambda_k)`` (gradient magnitude: the maximum over orientations of gPb's
oriented derivatives). To stay within a second per BSDS image it runs on the
edge map max-pooled to at most ``max_side`` pixels (gPb runs at full size
and takes minutes) and is resized back.
"""
from __future__ import annotations

import cv2
import numpy as np
from numba import njit  # this module is imported only where sPb is used


@njit(cache=True)
def _affinity(edges, radius, rho):
    """COO entries of the intervening-contour affinity of every pixel pair
    within ``radius`` (each pair once)."""
    h, w = edges.shape
    offsets = []
    for dy in range(0, radius + 1):
        for dx in range(-radius, radius + 1):
            if (dy == 0 and dx <= 0) or dy * dy + dx * dx > radius**2:
                continue
            offsets.append((dy, dx))
    n = h * w * len(offsets)
    rows = np.empty(n, np.int64)
    cols = np.empty(n, np.int64)
    vals = np.empty(n, np.float64)
    k = 0
    for y in range(h):
        for x in range(w):
            for dy, dx in offsets:
                yy, xx = y + dy, x + dx
                if yy >= h or xx < 0 or xx >= w:
                    continue
                steps = max(abs(dy), abs(dx))
                peak = 0.0
                for s in range(steps + 1):  # the pixels on the segment
                    py = int(round(y + dy * s / steps))
                    px = int(round(x + dx * s / steps))
                    peak = max(peak, edges[py, px])
                rows[k] = y * w + x
                cols[k] = yy * w + xx
                vals[k] = np.exp(-peak / rho)
                k += 1
    return rows[:k], cols[:k], vals[:k]


def max_pool(edges: np.ndarray, max_side: int) -> np.ndarray:
    """Block maxima so that the longer side is at most ``max_side`` (thin
    edges survive, as they would not an average)."""
    factor = int(np.ceil(max(edges.shape) / max_side))
    if factor <= 1:
        return edges
    h, w = edges.shape
    ph, pw = -h % factor, -w % factor
    padded = np.pad(edges, ((0, ph), (0, pw)), mode='edge')
    return padded.reshape((h + ph) // factor, factor, (w + pw) // factor,
                          factor).max((1, 3))


def spectral_boundaries(edges: np.ndarray, vectors: int = 16,
                        radius: int = 3, rho: float = 0.1,
                        max_side: int = 128) -> np.ndarray:
    """sPb of an edge map in [0, 1] (``H x W``), normalised to [0, 1].

    Args:
        vectors: Eigenvectors after the constant one (gPb: 16).
        radius: Affinity radius in pooled pixels (gPb: 5 at full size).
        rho: Affinity scale of the intervening contour.
        max_side: Longer side of the pooled map the eigenproblem runs on.
    """
    from scipy.sparse import coo_matrix, diags, identity
    from scipy.sparse.linalg import eigsh
    small = max_pool(np.asarray(edges, np.float64), max_side)
    h, w = small.shape
    n = h * w
    vectors = min(vectors, n - 2)
    if vectors < 1:
        return np.zeros(edges.shape, np.float32)
    rows, cols, vals = _affinity(small, radius, rho)
    W = coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    W = W + W.T + diags(np.ones(n))  # symmetric, each pixel its own kin
    d = np.asarray(W.sum(1)).ravel()
    scale = diags(1 / np.sqrt(d))
    # (D - W) v = lambda D v  <=>  (I - D^-1/2 W D^-1/2) u = lambda u; the
    # smallest by shift-invert (one sparse LU; Lanczos on the largest of
    # the normalised affinity converges slowly: they cluster near 1)
    laplacian = (identity(n) - scale @ W @ scale).tocsc()
    lams, u = eigsh(laplacian, k=vectors + 1, sigma=-1e-3, which='LM',
                    v0=np.sqrt(d), tol=1e-6)
    order = np.argsort(lams)[1:]  # drop the constant vector (lambda = 0)
    out = np.zeros((h, w))
    for k in order:
        lam = max(float(lams[k]), 1e-6)
        v = (u[:, k] / np.sqrt(d)).reshape(h, w)
        v = v / (np.abs(v).max() + 1e-12)
        gy, gx = np.gradient(v)
        out += np.hypot(gx, gy) / np.sqrt(lam)
    out = cv2.resize(out.astype(np.float32), edges.shape[::-1],
                     interpolation=cv2.INTER_LINEAR)
    peak = float(out.max())
    return out / peak if peak > 0 else out
