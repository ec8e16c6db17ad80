"""K-means and nearest neighbours with faiss, shared by the protocols and the
offline priors."""
from __future__ import annotations

import faiss
import numpy as np
import torch


def fit_kmeans(points: np.ndarray | torch.Tensor, k: int, seed: int = 0,
               niter: int = 20, nredo: int = 3,
               max_points_per_centroid: int = 256) -> np.ndarray:
    """Centroids (``k x d`` float32) of Lloyd's K-means on ``points``.

    The best of ``nredo`` random initialisations (lowest objective) is kept:
    one start often ends in a local optimum that merges two clusters (as
    scikit-learn, which restarts by default). faiss trains on at most
    ``max_points_per_centroid * k`` points, drawn at random with ``seed``.
    """
    points = np.ascontiguousarray(np.asarray(points, dtype=np.float32))
    if len(points) < k:
        raise ValueError(f'{len(points)} points cannot make {k} clusters')
    kmeans = faiss.Kmeans(points.shape[1], k, niter=niter, nredo=nredo,
                          seed=seed,
                          verbose=False, min_points_per_centroid=1,
                          max_points_per_centroid=max_points_per_centroid)
    kmeans.train(points)
    return kmeans.centroids.copy()


def assign(points: torch.Tensor, centroids: np.ndarray | torch.Tensor
           ) -> torch.Tensor:
    """Index of the nearest centroid (Euclidean) of every row of ``points``."""
    centroids = torch.as_tensor(centroids, dtype=points.dtype)
    # argmin |x - c|^2 = argmax (x.c - |c|^2 / 2)
    scores = points @ centroids.T - 0.5 * (centroids * centroids).sum(1)
    return scores.argmax(dim=1)


def nearest_neighbours(bank: np.ndarray, queries: np.ndarray, n: int = 1,
                       metric: str = 'ip') -> tuple[np.ndarray, np.ndarray]:
    """Exact ``n`` nearest rows of ``bank`` for each query with faiss.

    Args:
        metric: ``ip`` (inner product, cosine on unit vectors; larger is
            nearer) or ``l2`` (squared distance; smaller is nearer).

    Returns:
        ``(scores, indices)``, each ``len(queries) x n``.
    """
    bank = np.ascontiguousarray(bank, dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    index = (faiss.IndexFlatIP if metric == 'ip' else faiss.IndexFlatL2)(
        bank.shape[1])
    index.add(bank)
    return index.search(queries, min(n, len(bank)))
