"""Edge detectors for the grouping primitive (hierarchical grouping, sec. 3
"Grouping Primitive"): each maps a BGR image to an edge strength map in
[0, 1] and an orientation map (radians, the direction of the boundary
normal) of the same size.

* :class:`ColourGradientEdges`: the no-learning baseline, the largest Lab
  gradient magnitude over the channels after Gaussian smoothing.
* :class:`StructuredForestEdges`: Dollar and Zitnick's structured edge
  forests (the paper's detector) through OpenCV contrib, given a model file.
* :class:`ContourNetEdges`: this project's contour detector, trained from
  random init on BSDS500 train + val (the strict setting; config
  ``configs/hier_grouping/contour-net_*``).
"""
from __future__ import annotations

import os.path as osp

import cv2
import numpy as np

from mmssl_seg.priors.segmentor import SegmentorProbability


class EdgeDetector:
    """``detector(image) -> (edges, orientation)``, both ``H x W``
    float32. ``params`` identify the detector in a prior's manifest."""

    name = 'base'

    @property
    def params(self) -> dict:
        return {'name': self.name}

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def gradient_orientation(edges: np.ndarray) -> np.ndarray:
    """The boundary normal of an edge map from its smoothed second
    derivatives (the estimate of the structured edge toolbox's ``edgesNms``
    and OpenCV's ``computeOrientation``), in ``[0, pi)``."""
    smooth = cv2.GaussianBlur(edges, (0, 0), 2.0)
    dx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    dy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    dxx = cv2.Sobel(dx, cv2.CV_32F, 1, 0, ksize=3)
    dyy = cv2.Sobel(dy, cv2.CV_32F, 0, 1, ksize=3)
    dxy = cv2.Sobel(dx, cv2.CV_32F, 0, 1, ksize=3)
    return np.mod(np.arctan(dyy * np.sign(-dxy) / (dxx + 1e-5)),
                  np.pi).astype(np.float32)


class ColourGradientEdges(EdgeDetector):
    """Largest Lab-channel gradient magnitude (Sobel after a Gaussian of
    ``sigma`` pixels), normalised by its 99th percentile into [0, 1].

    Args:
        sigma: Gaussian smoothing before differentiation.
    """

    name = 'colour_gradient'

    def __init__(self, sigma: float = 1.5) -> None:
        self.sigma = sigma

    @property
    def params(self) -> dict:
        return {'name': self.name, 'sigma': self.sigma}

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lab = cv2.cvtColor(image.astype(np.float32) / 255.0,
                           cv2.COLOR_BGR2Lab)
        lab = cv2.GaussianBlur(lab, (0, 0), self.sigma)
        gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3)
        magnitude = np.sqrt(gx**2 + gy**2)
        strongest = magnitude.argmax(axis=2)[..., None]
        edges = np.take_along_axis(magnitude, strongest, 2)[..., 0]
        angle = np.arctan2(np.take_along_axis(gy, strongest, 2)[..., 0],
                           np.take_along_axis(gx, strongest, 2)[..., 0])
        edges = np.clip(edges / max(np.percentile(edges, 99), 1e-6), 0, 1)
        return edges.astype(np.float32), np.mod(angle, np.pi).astype(
            np.float32)


class StructuredForestEdges(EdgeDetector):
    """Structured edge forests (Dollar and Zitnick) with OpenCV's
    ``ximgproc``; ``model`` is the forest file (``model.yml.gz``), which
    users bring (it is trained on BSDS500 train).

    Args:
        model: Path of the forest.
    """

    name = 'structured_forest'

    def __init__(self, model: str) -> None:
        if not osp.isfile(model):
            raise FileNotFoundError(f'structured edge model not found: '
                                    f'{model}')
        if not hasattr(cv2, 'ximgproc'):
            raise ImportError('structured edges need opencv-contrib-python')
        self.model = model
        self._forest = None

    @property
    def params(self) -> dict:
        return {'name': self.name, 'model': osp.abspath(self.model)}

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._forest is None:  # built lazily: not picklable
            self._forest = cv2.ximgproc.createStructuredEdgeDetection(
                self.model)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32)
        edges = self._forest.detectEdges(rgb / 255.0)
        orientation = self._forest.computeOrientation(edges)
        return edges.astype(np.float32), orientation.astype(np.float32)


class ContourNetEdges(EdgeDetector):
    """This project's contour detector: an MMSeg segmentor with two classes
    (background, boundary) trained on BSDS500; the edge map is the
    boundary probability at the image size
    (:class:`~mmssl_seg.priors.segmentor.SegmentorProbability`), the
    orientation is estimated from it (:func:`gradient_orientation`).

    Args:
        config: The detector's config.
        checkpoint: Its weights (read with ``weights_only=True``).
    """

    name = 'contour_net'

    def __init__(self, config: str, checkpoint: str) -> None:
        self.segmentor = SegmentorProbability(config, checkpoint)

    @property
    def params(self) -> dict:
        return {'name': self.name, **self.segmentor.params}

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        edges = self.segmentor(image)
        return edges, gradient_orientation(edges)
