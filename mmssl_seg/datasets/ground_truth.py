"""Ground truth of a folder by image stem, for the quality reports of the
prior tools (the labels never enter a prior)."""
from __future__ import annotations

import os
import os.path as osp
from typing import Callable

import cv2
import numpy as np

#: ``classes``: class-index maps (VOC palette PNGs, 255 void);
#: ``foreground``: the same as 0/1/255 (every class but 0 is foreground);
#: ``binary``: figure/ground masks of any format (>= 128 is figure).
GT_KINDS = ('classes', 'foreground', 'binary')


def ground_truth_reader(gt_dir: str, kind: str = 'classes') -> Callable:
    """``(stem, shape) -> map`` of the ground truth in ``gt_dir``.

    Class maps must have the image's ``shape``; binary masks are resized to
    it with nearest neighbour when their size differs (the Weizmann horses).
    Errors name the file.
    """
    from PIL import Image
    if kind not in GT_KINDS:
        raise ValueError(f'kind must be one of {GT_KINDS}, got {kind!r}')
    if not osp.isdir(gt_dir):
        raise FileNotFoundError(f'ground-truth folder not found: {gt_dir}')
    files = {osp.splitext(f)[0]: osp.join(gt_dir, f)
             for f in os.listdir(gt_dir)}

    def read(stem: str, shape: tuple[int, int]) -> np.ndarray:
        if stem not in files:
            raise FileNotFoundError(f'no ground truth for {stem} in {gt_dir}')
        path = files[stem]
        if kind == 'binary':
            gt = np.array(Image.open(path).convert('L'))
            if gt.shape != tuple(shape):
                gt = cv2.resize(gt, shape[::-1],
                                interpolation=cv2.INTER_NEAREST)
            return (gt >= 128).astype(np.uint8)
        gt = np.array(Image.open(path))
        if gt.shape != tuple(shape):
            raise ValueError(f'{path} is {gt.shape}, the image {shape}')
        if kind == 'foreground':
            return np.where(gt == 255, 255, gt > 0).astype(np.uint8)
        return gt.astype(np.int64)

    return read
