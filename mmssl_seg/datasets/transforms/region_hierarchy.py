"""Transforms for hierarchical grouping: load an image's region tree, cut
views whose geometry is recorded (so that pixel pairs sampled in one view
can be looked up in another, sec. 3 "Augmented Reference Sampling"), and
pack them."""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmseg.registry import TRANSFORMS

from mmssl_seg.datasets.transforms.prior_files import LoadPriorFiles
from mmssl_seg.datasets.transforms.views import PackViews, random_resized_box
from mmssl_seg.structures import D_T, RegionTree, prior_path


@TRANSFORMS.register_module()
class LoadRegionHierarchy(LoadPriorFiles):
    """Load an image's region tree (``trees/<stem>.npz`` of a
    ``make_hierarchies.py`` folder): ``gt_regions`` (leaf index per pixel)
    and ``tree_distance`` (the ``K x K`` d_T, computed in O(K^2) from the
    stored tree). A missing or unreadable file or a leaf map of another size
    than its image is an error naming both.

    Args:
        root: The ``make_hierarchies.py`` output folder.
        d_t: How d_T reads the tree: ``level`` (the level of the hierarchy
            at which two regions merge, the paper's Fig. 1; default) or
            ``altitude`` (the UCM's boundary strength at the merge); see
            :class:`~mmssl_seg.structures.RegionTree`.
    """

    def __init__(self, root: str, d_t: str = 'level') -> None:
        if d_t not in D_T:
            raise ValueError(f'd_t must be one of {D_T}, got {d_t!r}')
        super().__init__(root)
        self.d_t = d_t

    def read(self, img_path: str, shape: tuple[int, int]) -> RegionTree:
        path = prior_path(self.root, 'region_tree', img_path)
        try:
            tree = RegionTree.load(path)
        except FileNotFoundError:
            raise FileNotFoundError(f'region tree missing: {path} (for '
                                    f'{img_path})') from None
        if tree.leaves.shape != tuple(shape):
            raise ValueError(f'region tree {path} is {tree.leaves.shape}, '
                             f'its image {img_path} is {tuple(shape)}')
        return tree

    def put(self, results: dict, tree: RegionTree) -> None:
        results['gt_regions'] = tree.leaves
        results['tree_distance'] = tree.distances(self.d_t)


@TRANSFORMS.register_module()
class RegionViews(BaseTransform):
    """``num_views`` views of an image and its region map, each a random
    resized crop (area fraction ``scale``, aspect ``ratio``) resized to
    ``size`` (regions by nearest neighbour), flipped horizontally with
    ``flip_prob``, then the ``photometric`` transforms on the image alone.
    ``view_boxes`` (``V x 5``: crop y, x, h, w in the image and 1 if
    flipped) lets the model map pixels from one view to another.

    Args:
        size: Output ``(h, w)`` or one int (224 in the paper).
        num_views: Views per image (2: the sampled view and the augmented
            reference).
        scale: Range of the crop's area fraction.
        ratio: Range of the crop's aspect ratio (log-uniform).
        flip_prob: Probability of a horizontal flip.
        photometric: Transform configs for each view's image (colour
            jitter).
    """

    def __init__(self, size: int | Sequence[int] = 224, num_views: int = 2,
                 scale: Sequence[float] = (0.2, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3),
                 flip_prob: float = 0.5,
                 photometric: Sequence[dict] = ()) -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.num_views = num_views
        self.scale = scale
        self.log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        self.flip_prob = flip_prob
        self.photometric = Compose(
            [TRANSFORMS.build(t) for t in photometric])

    def _box(self, h: int, w: int) -> tuple[int, int, int, int]:
        for _ in range(10):
            box = random_resized_box(h, w, self.scale, self.log_ratio)
            if box is not None:
                return box
        side = min(h, w)  # torchvision's fallback: a centred square
        return (h - side) // 2, (w - side) // 2, side, side

    def transform(self, results: dict) -> dict:
        image, regions = results['img'], results['gt_regions']
        images, maps, boxes = [], [], []
        for _ in range(self.num_views):
            y, x, ch, cw = self._box(*regions.shape)
            view = cv2.resize(image[y:y + ch, x:x + cw], self.size[::-1],
                              interpolation=cv2.INTER_LINEAR)
            view_map = cv2.resize(regions[y:y + ch, x:x + cw],
                                  self.size[::-1],
                                  interpolation=cv2.INTER_NEAREST)
            flip = np.random.rand() < self.flip_prob
            if flip:
                view, view_map = view[:, ::-1], view_map[:, ::-1]
            view = self.photometric(dict(img=np.ascontiguousarray(view)))[
                'img']
            images.append(view)
            maps.append(np.ascontiguousarray(view_map))
            boxes.append((y, x, ch, cw, float(flip)))
        results['img'] = images
        results['gt_regions'] = maps
        results['view_boxes'] = np.asarray(boxes, np.float32)
        results['img_shape'] = self.size
        return results


@TRANSFORMS.register_module()
class PackRegionViews(PackViews):
    """Pack the views: ``inputs`` is a list of ``3 x H x W`` uint8 tensors
    (one per view); the ``SegDataSample`` holds ``gt_regions``
    (``V x H x W``) and, in its metainfo, ``tree_distance`` and
    ``view_boxes`` as tensors.

    Args:
        meta_keys: Also kept in the metainfo.
    """

    def __init__(self, meta_keys: Sequence[str] = ('img_path', 'ori_shape',
                                                   'img_shape')) -> None:
        super().__init__(meta_keys, fields=('gt_regions', ),
                         meta_tensors=('tree_distance', 'view_boxes'))
