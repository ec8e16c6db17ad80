"""Transforms for pretraining on salient-object masks (MaskContrast)."""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmseg.registry import TRANSFORMS

from mmssl_seg.datasets.transforms.prior_files import LoadPriorFiles
from mmssl_seg.datasets.transforms.views import PackViews, random_resized_box
from mmssl_seg.structures import prior_path, read_prior_map


@TRANSFORMS.register_module()
class LoadSaliencyMask(LoadPriorFiles):
    """Load an image's salient-object mask (``masks/<stem>.png`` of a
    ``make_saliency.py`` folder) as ``gt_saliency`` (0/1).

    Masks may be 0/255, 0/1 or soft (0..255, thresholded at ``threshold``).
    A missing file or one of another size than its image is an error that
    names both.

    Args:
        root: The ``make_saliency.py`` output folder.
        threshold: Foreground where ``mask / max >= threshold``.
        as_seg_map: Also use the mask as ``gt_seg_map`` (classes 0/1) so
            MMSeg's transforms and losses train a saliency network on it.
    """

    def __init__(self, root: str, threshold: float = 0.5,
                 as_seg_map: bool = False) -> None:
        super().__init__(root)
        self.threshold = threshold
        self.as_seg_map = as_seg_map

    def read(self, img_path: str, shape: tuple[int, int]) -> np.ndarray:
        return read_prior_map(prior_path(self.root, 'saliency_mask',
                                         img_path), shape, img_path,
                              'saliency mask', cv2.IMREAD_GRAYSCALE)

    def put(self, results: dict, mask: np.ndarray) -> None:
        scale = 255.0 if mask.max() > 1 else 1.0
        results['gt_saliency'] = (mask / scale >= self.threshold).astype(
            np.uint8)
        if self.as_seg_map:
            results['gt_seg_map'] = results['gt_saliency'].copy()
            results.setdefault('seg_fields', []).append('gt_seg_map')


@TRANSFORMS.register_module()
class SaliencyViews(BaseTransform):
    """Two (or more) SimCLR-style views of an image and its saliency mask,
    each showing part of the salient object (MaskContrast sec. 4.1).

    Per view: a random resized crop (area ``scale`` of the image, aspect
    ratio ``ratio``) whose salient fraction lies in ``[min_area, max_area]``,
    resized to ``size`` (mask by nearest neighbour), a horizontal flip with
    probability ``flip_prob``, then the ``photometric`` transforms on the
    image alone. The paper asks for more than 10 % salient area
    (``min_area=0.1``, the default); the authors' code uses 1 % to 99 %
    (``min_area=0.01, max_area=0.99``).

    A view that finds no valid crop in ``max_tries`` returns ``None``; the
    mmengine dataset then draws another image (a bounded number of times),
    so no worker loops forever or crashes on a small object.

    Args:
        size: Output ``(h, w)`` or one int.
        num_views: Views per image (2: query and key).
        scale: Range of the crop's area fraction (0.2-1 in SimCLR's setting
            as the issue fixes it).
        ratio: Range of the crop's aspect ratio (log-uniform).
        min_area / max_area: Bounds of the salient fraction of a view.
        max_tries: Crops tried per view.
        flip_prob: Probability of a horizontal flip.
        photometric: Transform configs applied to each view's image, e.g.
            colour jitter (p 0.8) and grayscale (p 0.2).
    """

    def __init__(self,
                 size: int | Sequence[int] = 224,
                 num_views: int = 2,
                 scale: Sequence[float] = (0.2, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3),
                 min_area: float = 0.1,
                 max_area: float = 1.0,
                 max_tries: int = 50,
                 flip_prob: float = 0.5,
                 photometric: Sequence[dict] = ()) -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.num_views = num_views
        self.scale = scale
        self.log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        if not 0 <= min_area <= max_area <= 1:
            raise ValueError(f'need 0 <= min_area <= max_area <= 1, got '
                             f'{min_area}, {max_area}')
        self.min_area = min_area
        self.max_area = max_area
        self.max_tries = max_tries
        self.flip_prob = flip_prob
        self.photometric = Compose(
            [TRANSFORMS.build(t) for t in photometric])

    def _crop_box(self, mask: np.ndarray) -> tuple[int, int, int,
                                                   int] | None:
        h, w = mask.shape
        integral = np.pad(mask.astype(np.int64).cumsum(0).cumsum(1),
                          ((1, 0), (1, 0)))
        for _ in range(self.max_tries):
            box = random_resized_box(h, w, self.scale, self.log_ratio)
            if box is None:
                continue
            y, x, ch, cw = box
            salient = (integral[y + ch, x + cw] - integral[y, x + cw] -
                       integral[y + ch, x] + integral[y, x]) / (ch * cw)
            if self.min_area <= salient <= self.max_area:
                return y, x, ch, cw
        return None

    def transform(self, results: dict) -> dict | None:
        image, mask = results['img'], results['gt_saliency']
        images, masks = [], []
        for _ in range(self.num_views):
            box = self._crop_box(mask)
            if box is None:
                return None  # the dataset draws another image
            y, x, ch, cw = box
            view = cv2.resize(image[y:y + ch, x:x + cw], self.size[::-1],
                              interpolation=cv2.INTER_LINEAR)
            view_mask = cv2.resize(mask[y:y + ch, x:x + cw], self.size[::-1],
                                   interpolation=cv2.INTER_NEAREST)
            if np.random.rand() < self.flip_prob:
                view, view_mask = view[:, ::-1], view_mask[:, ::-1]
            view = self.photometric(dict(img=np.ascontiguousarray(view)))[
                'img']
            images.append(view)
            masks.append(np.ascontiguousarray(view_mask))
        results['img'] = images
        results['gt_saliency'] = masks
        results['img_shape'] = self.size
        return results


@TRANSFORMS.register_module()
class PackSaliencyViews(PackViews):
    """Pack the views and their saliency masks: ``inputs`` is a list of
    ``3 x H x W`` uint8 tensors (one per view), ``data_samples`` a
    ``SegDataSample`` whose ``gt_saliency`` holds the views' masks
    (``V x H x W``).

    Args:
        meta_keys: Kept in the data sample's metainfo.
    """

    def __init__(self, meta_keys: Sequence[str] = ('img_path', 'ori_shape',
                                                   'img_shape')) -> None:
        super().__init__(meta_keys, fields=('gt_saliency', ))
