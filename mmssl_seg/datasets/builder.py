"""Datasets built from configs, as the evaluation protocols and the prior
tools need them; missing data folders are named first
(:func:`~mmssl_seg.datasets.checks.check_data`)."""
from __future__ import annotations

from typing import Sequence

from mmengine.config import Config

from mmssl_seg.datasets.checks import check_data


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
    dataset_cfg = cfg[f'{split}_dataloader'].dataset.copy()
    if ann_file is None:
        check_data(cfg, (split, ))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset_cfg.pipeline = cfg.val_dataloader.dataset.pipeline
    if ann_file is not None:
        dataset_cfg.ann_file = ann_file
    if indices is not None:
        dataset_cfg.indices = indices
    return DATASETS.build(dataset_cfg)


def split_dataset(data_config: str, split: str):
    """The ``{split}_dataloader`` dataset of a config as it is (any dataset
    type: an MMSeg split, our unlabelled image lists, a concatenation)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(data_config)
    key = f'{split}_dataloader'
    if not cfg.get(key):
        raise KeyError(f'{data_config} has no {key}')
    check_data(cfg, (split, ), priors=False)  # the prior tools list these
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return DATASETS.build(cfg[key].dataset)
