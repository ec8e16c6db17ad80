"""Saliency from hand-crafted priors: no labels, no training.

* ``rbd``: robust background detection (Zhu et al., CVPR 2014). On SLIC
  superpixels, a region's *boundary connectivity* - how much of its
  geodesic "span" touches the image border - gives a background probability;
  background-weighted contrast gives a foreground cue; both enter a small
  quadratic optimisation with a smoothness term over adjacent regions.
* ``spectral_residual`` (Hou and Zhang, CVPR 2007) and ``fine_grained``
  (Montabone and Soto, 2010): OpenCV contrib's static saliency, fast and
  weaker.

Every function takes a BGR uint8 image and returns a float32 map in [0, 1] of
the image's size.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from skimage.segmentation import slic


def _normalise(saliency: np.ndarray) -> np.ndarray:
    low, high = float(saliency.min()), float(saliency.max())
    if high - low < 1e-12:
        return np.zeros_like(saliency, dtype=np.float32)
    return ((saliency - low) / (high - low)).astype(np.float32)


def rbd_saliency(image: np.ndarray, num_segments: int = 300,
                 compactness: float = 20.0, sigma_color: float = 10.0,
                 sigma_bndcon: float = 1.0, sigma_space: float = 0.25,
                 smooth_mu: float = 0.1) -> np.ndarray:
    """Robust background detection saliency (Zhu et al. 2014, eqs. 1-9).

    Args:
        num_segments / compactness: SLIC parameters.
        sigma_color: sigma_clr of the geodesic span (Lab distance units).
        sigma_bndcon: sigma of the background probability.
        sigma_space: sigma of the spatial weight (coordinates in [0, 1]).
        smooth_mu: The constant added to the smoothness weights.
    """
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0  # OpenCV 8-bit Lab -> L in [0, 100]
    lab[..., 1:] -= 128.0
    labels = slic(image[..., ::-1], n_segments=num_segments,
                  compactness=compactness, start_label=0)
    n = int(labels.max()) + 1
    h, w = labels.shape
    counts = np.bincount(labels.ravel(), minlength=n).astype(np.float64)
    colour = np.stack([np.bincount(labels.ravel(), lab[..., c].ravel(), n)
                       for c in range(3)], 1) / counts[:, None]
    ys, xs = np.mgrid[0:h, 0:w]
    position = np.stack([np.bincount(labels.ravel(), ys.ravel() / h, n),
                         np.bincount(labels.ravel(), xs.ravel() / w, n)],
                        1) / counts[:, None]

    # adjacency of regions that share a pixel edge
    pairs = np.concatenate([
        np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()], 1),
        np.stack([labels[:-1].ravel(), labels[1:].ravel()], 1)])
    pairs = np.unique(np.sort(pairs[pairs[:, 0] != pairs[:, 1]], 1), axis=0)
    d_app = np.linalg.norm(colour[:, None] - colour[None], axis=2)
    # geodesic distance: shortest path over adjacent regions (eq. 2)
    weights = d_app[pairs[:, 0], pairs[:, 1]] + 1e-6
    graph = coo_matrix((weights, (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    geodesic = dijkstra(graph, directed=False)
    span = np.exp(-geodesic**2 / (2 * sigma_color**2))
    border = np.zeros(n, bool)
    border[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0],
                                     labels[:, -1]]))] = True
    area = span.sum(1)  # eq. 3
    length = span[:, border].sum(1)  # eq. 4
    bndcon = length / np.sqrt(area)  # eq. 5
    w_bg = 1.0 - np.exp(-bndcon**2 / (2 * sigma_bndcon**2))  # eq. 6
    d_space = np.linalg.norm(position[:, None] - position[None], axis=2)
    w_space = np.exp(-d_space**2 / (2 * sigma_space**2))
    w_fg = (d_app * w_space * w_bg[None]).sum(1)  # eq. 8 (wCtr)
    w_fg = _normalise(w_fg).astype(np.float64)

    # eq. 9: min sum w_bg s^2 + sum w_fg (s-1)^2 + sum w_ij (s_i-s_j)^2
    w_smooth = np.exp(-d_app[pairs[:, 0], pairs[:, 1]]**2 /
                      (2 * sigma_color**2)) + smooth_mu
    laplacian = np.zeros((n, n))
    laplacian[pairs[:, 0], pairs[:, 1]] = -w_smooth
    laplacian[pairs[:, 1], pairs[:, 0]] = -w_smooth
    laplacian[np.diag_indices(n)] = -laplacian.sum(1)
    system = np.diag(w_bg + w_fg) + laplacian
    region_saliency = np.linalg.solve(system, w_fg)
    return _normalise(region_saliency[labels])


def spectral_residual_saliency(image: np.ndarray) -> np.ndarray:
    """OpenCV's spectral-residual static saliency, in [0, 1]."""
    detector = cv2.saliency.StaticSaliencySpectralResidual_create()
    ok, saliency = detector.computeSaliency(image)
    if not ok:
        raise RuntimeError('spectral residual saliency failed')
    return _normalise(cv2.resize(saliency.astype(np.float32),
                                 image.shape[1::-1]))


def fine_grained_saliency(image: np.ndarray) -> np.ndarray:
    """OpenCV's fine-grained static saliency, in [0, 1]."""
    detector = cv2.saliency.StaticSaliencyFineGrained_create()
    ok, saliency = detector.computeSaliency(image)
    if not ok:
        raise RuntimeError('fine-grained saliency failed')
    return _normalise(saliency.astype(np.float32))


METHODS = {
    'rbd': rbd_saliency,
    'spectral_residual': spectral_residual_saliency,
    'fine_grained': fine_grained_saliency,
}
