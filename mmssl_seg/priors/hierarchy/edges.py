"""Edge detectors for the grouping primitive (hierarchical grouping, sec. 3
"Grouping Primitive"): each maps a BGR image to an edge strength map in
[0, 1] and an orientation map (radians, the direction of the boundary
normal) of the same size.

* :class:`ColourGradientEdges`: the no-learning baseline, the largest Lab
  gradient magnitude over the channels after Gaussian smoothing.
* :class:`StructuredForestEdges`: Dollar and Zitnick's structured edge
  forests (the paper's detector, with :class:`SpectralEdges` the default
  of ``make_hierarchies.py``) through OpenCV contrib, given a model file:
  the packaged one (:mod:`.packaged`, the default) or another trained by
  ``tools/priors/train_structured_edges.py``.
* :class:`ContourNetEdges`: this project's contour detector, trained from
  random init on BSDS500 train + val (the strict setting; config
  ``configs/hier_grouping/contour-net_*``).
"""
from __future__ import annotations

import os.path as osp

import cv2
import numpy as np

from mmssl_seg.priors.hierarchy.packaged import (
    PACKAGED,
    packaged_forest,
    packaged_forest_entry,
)
from mmssl_seg.priors.segmentor import SegmentorProbability
from mmssl_seg.utils.errors import ArgumentError
from mmssl_seg.utils.io import sha256_of

#: Where ``tools/priors/train_structured_edges.py`` writes a forest
#: (relative to the working directory, as every OpenMMLab ``work_dirs``).
DEFAULT_FOREST_DIR = osp.join('work_dirs', 'structured_edges')
#: ``make_hierarchies.py``'s default: the forest shipped with the package.
DEFAULT_FOREST = PACKAGED
#: The default detector (configs/hier_grouping/README.md): SE-MS plus 0.1
#: of its sPb, the eigenproblem on the map pooled to 96 px (weight and size
#: chosen on 30 BSDS train images; together under 1 s per BSDS image).
DEFAULT_SPECTRAL = 0.1
DEFAULT_SPECTRAL_SIZE = 96
DEFAULT_MULTISCALE = True
#: The SE toolbox's default (``sharpen=2``; the paper uses SE without
#: saying, so its code's setting): the best hierarchy measured (+0.005 ODS)
#: at 1.6 s per BSDS image (0 takes 1 s; the README's table).
DEFAULT_SHARPEN = 2


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


def thin_edges(edges: np.ndarray, orientation: np.ndarray, radius: int = 1,
               border: int = 5, multiplier: float = 1.01) -> np.ndarray:
    """Non-maximum suppression along the boundary normal (the SE toolbox's
    ``edgesNmsMex``, with the settings ``edgesDetect`` evaluates with): a
    pixel is zeroed where ``multiplier`` x its strength is below the
    bilinearly interpolated strength at a distance ``1..radius`` along
    ``orientation`` (either side); strengths within ``border`` pixels of the
    image border fade linearly to 0. The input of the BSDS boundary
    benchmark of edge maps."""
    from mmssl_seg.priors.hierarchy.structured_forest import (
        suppress_non_maxima,  # compiled: numba loads only here
    )
    out = suppress_non_maxima(np.ascontiguousarray(edges, np.float32),
                              np.ascontiguousarray(orientation, np.float32),
                              radius, np.float32(multiplier))
    s = min(border, out.shape[0] // 2, out.shape[1] // 2)
    for i in range(s):  # fade the border
        out[i, :] *= i / s
        out[-1 - i, :] *= i / s
        out[:, i] *= i / s
        out[:, -1 - i] *= i / s
    return out


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


def _has_segmentations(archive: str) -> bool:
    with np.load(archive) as f:
        return 'segs' in f.files


class StructuredForestEdges(EdgeDetector):
    """Structured edge forests (Dollar and Zitnick) run by OpenCV's
    ``ximgproc``: ``model`` is ``'packaged'`` (the 8-tree BSDS500 forest
    shipped with the package, :mod:`.packaged`) or a forest file in OpenCV's
    format, ours (``tools/priors/train_structured_edges.py``) or a user's
    ``model.yml.gz``. Images smaller than a patch are padded
    (symmetric, as the SE toolbox's ``edgesDetect``) and cropped back.

    Args:
        model: ``'packaged'`` or the path of the forest.
        multiscale: Average the edges of the image at half, full and double
            size (the SE paper's "SE-MS"; about 5x the time).
        sharpen: The SE toolbox's sharpening (0: none, OpenCV's
            ``detectEdges``; 1 or 2: :meth:`StructuredForest.edges`, our
            compiled inference, which needs the ``forest.npz`` that
            ``train_structured_edges.py`` writes beside the model).
    """

    name = 'structured_forest'

    def __init__(self, model: str, multiscale: bool = False,
                 sharpen: int = 0) -> None:
        from mmssl_seg.priors.hierarchy.structured_forest import (
            SHARPEN_SCALE,
            check_opencv_model,
        )
        if not hasattr(cv2, 'ximgproc'):
            raise ImportError('structured edges need opencv-contrib-python')
        if sharpen not in SHARPEN_SCALE:
            raise ArgumentError(f'sharpen must be 0, 1 or 2, got {sharpen}')
        # recorded by name: the cache path differs between machines
        entry = packaged_forest_entry() if model == PACKAGED else None
        self.source = (f'{PACKAGED}:{entry["Name"]}'
                       if entry else osp.abspath(model))
        if entry:
            model = packaged_forest()
        self.patch_size = check_opencv_model(model)['patchSize']
        self.archive = osp.join(osp.dirname(model), 'forest.npz')
        if sharpen and not osp.isfile(self.archive):
            raise FileNotFoundError(
                f'sharpening needs the forest\'s segmentations in '
                f'{self.archive} (written by '
                'tools/priors/train_structured_edges.py next to its '
                'model.yml.gz; OpenCV model files have none)')
        if sharpen and not _has_segmentations(self.archive):
            raise ArgumentError(
                f'{self.archive} predates sharpening (no segmentations): '
                'rerun tools/priors/train_structured_edges.py on its folder, '
                'which reassembles the forest from its trees in about a '
                'minute')
        self.model = model
        self.multiscale = multiscale
        self.sharpen = sharpen
        # by content: a forest retrained in place is another detector
        # (packaged_forest() has just checked both files against these)
        self.sha256 = (entry['OpenCV Model SHA256'] if entry
                       else sha256_of(model))
        if sharpen:
            self.sha256 += ':' + (entry['SHA256'] if entry
                                  else sha256_of(self.archive))
        self._forest = self._archived = None

    @property
    def params(self) -> dict:
        params = {'name': self.name, 'model': self.source,
                  'sha256': self.sha256, 'multiscale': self.multiscale}
        if self.sharpen:
            params['sharpen'] = self.sharpen
        return params

    def _detect(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        grow = (max(0, self.patch_size - h), max(0, self.patch_size - w))
        if any(grow):
            rgb = np.pad(rgb, ((0, grow[0]), (0, grow[1]), (0, 0)),
                         mode='symmetric')
        if self.sharpen:
            if self._archived is None:  # loaded in the worker
                from mmssl_seg.priors.hierarchy.structured_forest import (
                    StructuredForest,
                )
                self._archived = StructuredForest.load(self.archive)
            return self._archived.edges(rgb, self.sharpen)[:h, :w]
        return self._forest.detectEdges(rgb)[:h, :w]

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._forest is None:  # built lazily: not picklable
            self._forest = cv2.ximgproc.createStructuredEdgeDetection(
                self.model)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(
            np.float32) / 255.0
        if self.multiscale:
            h, w = rgb.shape[:2]
            edges = np.zeros((h, w), np.float32)
            for scale in (0.5, 1.0, 2.0):
                size = (max(1, round(w * scale)), max(1, round(h * scale)))
                scaled = cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)
                edges += cv2.resize(self._detect(scaled), (w, h),
                                    interpolation=cv2.INTER_LINEAR)
            edges /= 3
        else:
            edges = self._detect(rgb)
        edges = np.ascontiguousarray(edges, np.float32)
        orientation = self._forest.computeOrientation(edges)
        return edges, orientation.astype(np.float32)


class SpectralEdges(EdgeDetector):
    """An edge detector's map combined with its spectral boundaries (gPb's
    "sPb", :func:`~mmssl_seg.priors.hierarchy.spectral.spectral_boundaries`):
    ``(1 - weight) * E + weight * sPb``; the orientation stays the
    detector's.

    Args:
        detector: The local edge detector (structured edges in the paper).
        weight: Share of the spectral signal.
        size: Longer side of the pooled edge map the eigenproblem runs on
            (its cost grows about as its square).
    """

    name = 'spectral'
    #: The size before it was an option: not recorded, so that folders made
    #: then stay valid.
    unrecorded_size = 128

    def __init__(self, detector: EdgeDetector, weight: float = 0.5,
                 size: int = unrecorded_size) -> None:
        if not 0 < weight <= 1:
            raise ArgumentError(f'spectral weight must be in (0, 1], got '
                                f'{weight}')
        self.detector = detector
        self.weight = weight
        self.size = size

    @property
    def params(self) -> dict:
        params = {'name': self.name, 'weight': self.weight,
                  'edges': self.detector.params}
        if self.size != self.unrecorded_size:
            params['size'] = self.size
        return params

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from mmssl_seg.priors.hierarchy.spectral import spectral_boundaries
        edges, orientation = self.detector(image)
        combined = ((1 - self.weight) * edges + self.weight *
                    spectral_boundaries(edges, max_side=self.size))
        return combined.astype(np.float32), orientation


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
