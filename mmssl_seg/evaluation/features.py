"""Dense features of any model on the images of any dataset config: the one
place every evaluation protocol gets its features from.

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
from mmengine.config import Config
from rich.progress import track
from torch import nn

from mmssl_seg.utils.model import preprocess

FEATURE_KINDS = ('backbone', 'decoder', 'embedding', 'saliency')


@torch.no_grad()
def dense_features(model: nn.Module, inputs: torch.Tensor,
                   kind: str = 'backbone', in_index: int = -1
                   ) -> torch.Tensor:
    """``N x C x h x w`` features of normalised ``inputs``."""
    if hasattr(model, 'dense_features'):
        return model.dense_features(inputs, kind)
    if kind == 'backbone':
        feats = model.backbone(inputs)
        return feats[in_index] if isinstance(feats, (list, tuple)) else feats
    if kind == 'decoder':
        head = getattr(model, 'decode_head', None)
        if not hasattr(head, '_forward_feature'):
            raise ValueError(f'{type(model).__name__} has no decode head '
                             'with pre-classifier features')
        return head._forward_feature(model.extract_feat(inputs))
    raise ValueError(
        f'{type(model).__name__} has no `{kind}` features: only models with '
        f'a dense_features() method do; use one of backbone, decoder')


def build_eval_dataset(data_config, split: str = 'val',
                       ann_file: str | None = None,
                       indices: int | Sequence[int] | None = None):
    """The ``split`` dataset (``train`` or ``val``) of a dataset config with
    the config's *test* pipeline (no augmentation; ground truth at the
    original size), as the protocols need it."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(data_config) if isinstance(data_config,
                                                     str) else data_config
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset_cfg = cfg[f'{split}_dataloader'].dataset.copy()
    dataset_cfg.pipeline = cfg.val_dataloader.dataset.pipeline
    if ann_file is not None:
        dataset_cfg.ann_file = ann_file
    if indices is not None:
        dataset_cfg.indices = indices
    return DATASETS.build(dataset_cfg)


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
