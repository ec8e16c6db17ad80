"""The mIoU of a model that predicts one class everywhere: the floor under
every mIoU protocol. On VOC-like data, where most labelled pixels are
background, a network that has learned nothing about the classes scores
exactly this, and a table without it reads noise as signal."""
from __future__ import annotations

from typing import Iterable

import numpy as np
from PIL import Image


def constant_prediction_miou(label_files: Iterable[str],
                             num_classes: int,
                             label: int = 0,
                             ignore_index: int = 255) -> dict:
    """mIoU (in %) of predicting ``label`` at every pixel, as MMSeg's
    ``IoUMetric`` computes it over a dataset: per class IoU = |P n G| /
    |P u G| over all pixels with a valid label; classes absent from both
    prediction and ground truth do not count (NaN in ``IoUMetric``).

    With P = every pixel: IoU(label) = n_label / n, every other class that
    occurs scores 0, so mIoU = n_label / n / (number of classes counted).

    Args:
        label_files: Ground-truth label maps (palette or grey PNGs).
        num_classes: Classes of the dataset; pixel values outside
            ``[0, num_classes)`` other than ``ignore_index`` are an error.
        label: The class predicted everywhere (0 = background).
        ignore_index: Label of pixels that are not evaluated.

    Returns:
        ``mIoU``, ``fraction`` (n_label / n), ``classes`` (counted) and
        ``images``.
    """
    counts = np.zeros(num_classes, dtype=np.int64)
    images = 0
    for path in label_files:
        values = np.asarray(Image.open(path)).ravel()
        values = values[values != ignore_index].astype(np.int64)
        if values.size and values.max() >= num_classes:
            raise ValueError(f'{path}: label {values.max()} outside '
                             f'[0, {num_classes}) and not {ignore_index}')
        counts += np.bincount(values, minlength=num_classes)
        images += 1
    total = int(counts.sum())
    if total == 0:
        raise ValueError('no labelled pixels in the given label maps')
    present = counts > 0
    present[label] = True  # the predicted class always has a union
    fraction = counts[label] / total
    return {
        'mIoU': float(fraction / present.sum() * 100),
        'fraction': float(fraction),
        'classes': int(present.sum()),
        'images': images,
    }
