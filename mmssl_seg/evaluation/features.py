"""Dense features of any model over a dataset: the one place every
evaluation protocol gets its features from
(:func:`mmssl_seg.models.builder.dense_features` per image).

Feature kinds:

* ``backbone``: the backbone's output (``in_index`` picks a stage);
* ``decoder``: the decode head's features before its classifier (MMSeg heads'
  ``_forward_feature``);
* ``embedding`` (and e.g. ``saliency``): whatever a pretraining algorithm of
  ours exposes through its ``dense_features(inputs, kind)`` method, which takes
  precedence for every kind.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import track
from torch import nn

from mmssl_seg.models.builder import dense_features, preprocess

FEATURE_KINDS = ('backbone', 'decoder', 'embedding', 'saliency')


@dataclass
class FeatureItem:
    """Features of one image, with what protocols compare them against."""
    index: int
    feature: torch.Tensor  # C x h x w, float32
    gt: np.ndarray | None  # H x W at the original size (int64)
    img_path: str
    ori_shape: tuple[int, int]
    inputs: torch.Tensor  # 1 x 3 x H x W, normalised as in training


def iterate_features(model: nn.Module, dataset, kind: str = 'backbone',
                     in_index: int = -1, normalize: bool = True,
                     indices: Sequence[int] | None = None,
                     description: str = 'features') -> Iterator[FeatureItem]:
    """Yield the (L2-normalised over channels) features of each image."""
    indices = range(len(dataset)) if indices is None else indices
    for i in track(indices, description=description, transient=True):
        item = dataset[i]
        inputs = preprocess(model, [item['inputs']])
        feature = dense_features(model, inputs, kind, in_index)[0].float()
        if normalize:
            feature = F.normalize(feature, dim=0)
        sample = item['data_samples']
        gt = sample.gt_sem_seg.data[0].numpy().astype(
            np.int64) if 'gt_sem_seg' in sample else None
        yield FeatureItem(i, feature.cpu(), gt, sample.img_path,
                          tuple(sample.ori_shape), inputs)


def upsample_labels(labels: torch.Tensor | np.ndarray,
                    size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an ``h x w`` id map to ``size``."""
    labels = torch.as_tensor(np.asarray(labels))[None, None].float()
    return F.interpolate(labels, size=size,
                         mode='nearest')[0, 0].long().numpy()
