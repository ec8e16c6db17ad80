"""PmIoU of a folder of label maps (auxiliary labels, saliency masks, cuts of
a region hierarchy) against a dataset's ground truth."""
from __future__ import annotations

import os.path as osp

import cv2
import numpy as np
from rich.progress import track

from mmssl_seg.evaluation.functional import (
    PmIoUAccumulator,
    hungarian_mapping,
    majority_mapping,
    mapped_miou,
)


def read_label_map(path: str, shape: tuple[int, int] | None = None,
                   image: str = '') -> np.ndarray:
    """A single-channel label PNG; errors name the file (and its image)."""
    labels = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    for_image = f' (for {image})' if image else ''
    if labels is None:
        raise FileNotFoundError(f'label map missing: {path}{for_image}')
    if labels.ndim != 2:
        raise ValueError(f'{path} has {labels.shape[2]} channels; label '
                         f'maps have one{for_image}')
    if shape is not None and labels.shape != tuple(shape):
        raise ValueError(f'{path} is {labels.shape}, its image is '
                         f'{tuple(shape)}{for_image}')
    return labels


def _ground_truth(dataset, index: int) -> tuple[np.ndarray, str]:
    info = dataset.get_data_info(index)
    gt = dataset.pipeline(dict(info))['data_samples'].gt_sem_seg.data[0]
    return gt.numpy().astype(np.int64), info['img_path']


def pmiou_of_folder(label_dir: str, dataset, num_segments: int,
                    num_classes: int | None = None, binary: bool = False,
                    ignore_index: int = 255, suffix: str = '.png') -> dict:
    """PmIoU (and the mIoU under majority / Hungarian mapping) of the label
    maps ``<label_dir>/<image stem><suffix>`` over ``dataset``.

    Args:
        num_segments: K; label values ``0..K-1`` (others are ignored
            pixels). For 0/255 masks use ``binary=True``.
        binary: Score foreground vs background: ground truth becomes
            ``gt > 0`` (ignore kept) and masks ``> 127`` (or ``> 0`` for 0/1).
    """
    num_classes = 2 if binary else num_classes or len(
        dataset.metainfo['classes'])
    num_segments = 2 if binary else num_segments
    acc = PmIoUAccumulator(num_segments, num_classes, ignore_index)
    for i in track(range(len(dataset)), description='PmIoU', transient=True):
        gt, img_path = _ground_truth(dataset, i)
        stem = osp.splitext(osp.basename(img_path))[0]
        labels = read_label_map(osp.join(label_dir, stem + suffix), gt.shape,
                                img_path).astype(np.int64)
        if binary:
            labels = (labels > (127 if labels.max() > 1 else 0)).astype(
                np.int64)
            gt = np.where(gt == ignore_index, ignore_index, gt > 0)
        acc.update(labels, gt)
    c = acc.confusion
    result = {'label_dir': label_dir, 'images': len(dataset),
              'num_segments': num_segments, 'num_classes': num_classes,
              'PmIoU': acc.compute(),
              'mIoU_majority': mapped_miou(c, majority_mapping(c))[0]}
    if num_segments == num_classes:
        result['mIoU_hungarian'] = mapped_miou(c, hungarian_mapping(c))[0]
    return result
