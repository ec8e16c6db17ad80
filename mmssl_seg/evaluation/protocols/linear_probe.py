"""Linear probe protocol: train a 1x1 conv on a frozen model's features for
every candidate learning rate, choose the lr and the epoch on a held-out part
of the *training* split, then score only the chosen probe on val.

(The MaskContrast code picks on val; we do not.)
"""
from __future__ import annotations

import copy
import glob
import hashlib
import json
import os.path as osp
import re
from typing import Sequence

import numpy as np
import torch
from mmengine.config import Config

from mmssl_seg.datasets.checks import check_data
from mmssl_seg.engine.runner import build_runner, load_config
from mmssl_seg.models.builder import build_model, dense_features
from mmssl_seg.utils.io import atomic_path, sha256_of, write_json


def encoder_config(model_config: str) -> dict:
    """The ``model`` of a config, scoped so MMSeg's registry can build it
    (``mmpretrain.ImageClassifier`` for an MMPretrain config)."""
    cfg = Config.fromfile(model_config)
    model = cfg.model.to_dict()
    scope = cfg.get('default_scope', 'mmseg')
    if scope != 'mmseg' and '.' not in model['type']:
        model['type'] = f'{scope}.{model["type"]}'
    return model


def feature_channels(model_config: str, feature: str,
                     in_index: int = -1) -> int:
    """Channels of a model's ``feature``, from one forward of a dummy image."""
    model = build_model(model_config).eval()
    with torch.no_grad():
        return dense_features(model, torch.zeros(1, 3, 64, 64), feature,
                              in_index).shape[1]


def split_heldout(ann_file: str, out_dir: str, fraction: float,
                  seed: int) -> tuple[str, str, int]:
    """Write the probe's training ids and held-out ids; return both paths and
    the held-out count."""
    with open(ann_file) as f:
        ids = [line.strip() for line in f if line.strip()]
    count = max(1, int(round(fraction * len(ids))))
    heldout = set(np.random.default_rng(seed).choice(len(ids), count,
                                                     replace=False).tolist())
    paths = []
    for name, keep in (('probe_train', False), ('probe_heldout', True)):
        path = osp.join(out_dir, f'{name}.txt')
        with atomic_path(path) as tmp:
            with open(tmp, 'w') as f:
                f.write(''.join(i + '\n' for n, i in enumerate(ids)
                                if (n in heldout) == keep))
        paths.append(path)
    return paths[0], paths[1], count


def _resolve(path: str, data_root: str) -> str:
    return path if osp.isabs(path) else osp.join(data_root, path)


def _best(work_dir: str) -> tuple[str, int] | None:
    found = glob.glob(osp.join(work_dir, 'best_mIoU_epoch_*.pth'))
    if not found:
        return None
    path = max(found, key=osp.getmtime)
    return path, int(re.search(r'epoch_(\d+)', path).group(1))


def _weights_digest(checkpoint: str | None) -> str:
    """sha256 of the frozen weights' bytes ('' for random init)."""
    return '' if checkpoint is None else sha256_of(checkpoint)


def _fingerprint(cfg: Config, weights: str) -> str:
    """What a cached probe was trained from: the settings (the work dir
    aside: a relative and an absolute path are the same folder) and the
    frozen weights' digest."""
    settings = {k: v for k, v in cfg.to_dict().items() if k != 'work_dir'}
    digest = hashlib.sha256(
        json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update(weights.encode())
    return digest.hexdigest()


def run_linear_probe(model_config: str,
                     checkpoint: str | None,
                     probe_config: str,
                     work_dir: str,
                     feature: str = 'backbone',
                     in_index: int = -1,
                     lrs: Sequence[float] = (0.1, ),
                     heldout_fraction: float = 0.1,
                     seed: int = 0,
                     cfg_options: dict | None = None,
                     allow_missing: Sequence[str] = ()) -> dict:
    """Run the protocol; each lr's training is skipped when its best
    checkpoint and score exist already from the same settings and weights
    (resumable; a folder trained otherwise is refused, never reused). Ties
    on the held-out score go to the lr listed first."""
    if checkpoint is not None:  # refuse a checkpoint that does not fit now
        from mmssl_seg.checkpoint.loading import load_model
        load_model(model_config, checkpoint, kind=feature,
                   allow_missing=allow_missing)
    base = load_config(probe_config, work_dir, cfg_options)
    check_data(base, ('train', 'val', 'test'))
    train_set = base.train_dataloader.dataset
    ann_file = _resolve(train_set.ann_file, train_set.data_root)
    # absolute: MMSeg joins a relative ann_file to the dataset's data_root
    probe_train, probe_heldout, heldout_count = split_heldout(
        ann_file, osp.abspath(work_dir), heldout_fraction, seed)
    base.model.update(
        encoder=encoder_config(model_config), checkpoint=checkpoint,
        feature=feature, in_index=in_index,
        allow_missing=list(allow_missing),
        in_channels=feature_channels(model_config, feature, in_index))
    train_set.ann_file = probe_train
    heldout_set = copy.deepcopy(train_set)
    heldout_set.ann_file = probe_heldout
    heldout_set.pipeline = base.val_dataloader.dataset.pipeline
    # val (every epoch) runs on the held-out ids; test stays the real val
    base.val_dataloader = copy.deepcopy(base.val_dataloader)
    base.val_dataloader.dataset = heldout_set
    base.randomness = dict(seed=seed)

    weights = _weights_digest(checkpoint)  # read once, not per lr
    sweep = {}
    for lr in lrs:
        cfg = copy.deepcopy(base)
        cfg.optim_wrapper.optimizer.lr = lr
        cfg.work_dir = osp.join(work_dir, f'lr_{lr:g}')
        score_file = osp.join(cfg.work_dir, 'heldout.json')
        fingerprint = _fingerprint(cfg, weights)
        if _best(cfg.work_dir) is None or not osp.isfile(score_file):
            runner = build_runner(cfg)
            runner.train()
            write_json(score_file, {
                'heldout_mIoU': float(
                    runner.message_hub.get_info('best_score')),
                'fingerprint': fingerprint})
        best_path, best_epoch = _best(cfg.work_dir)
        with open(score_file) as f:
            cached = json.load(f)
        if cached.get('fingerprint') != fingerprint:
            raise FileExistsError(
                f'{cfg.work_dir} holds a probe trained with other settings '
                'or weights; delete it or choose another --work-dir')
        score = float(cached['heldout_mIoU'])
        sweep[lr] = {'heldout_mIoU': score, 'best_epoch': best_epoch,
                     'checkpoint': best_path, 'config': cfg}

    chosen = max(sweep, key=lambda lr: sweep[lr]['heldout_mIoU'])
    runner = build_runner(sweep[chosen]['config'])
    runner.load_evaluated_weights(sweep[chosen]['checkpoint'])
    metrics = runner.test()
    return {
        'model_config': model_config,
        'checkpoint': checkpoint or 'random init',
        'feature': feature,
        'probe_config': probe_config,
        'seed': seed,
        'heldout_images': heldout_count,
        'sweep': {f'{lr:g}': {k: v for k, v in s.items() if k != 'config'}
                  for lr, s in sweep.items()},
        'chosen_lr': chosen,
        'chosen_epoch': sweep[chosen]['best_epoch'],
        'val_mIoU': float(metrics['mIoU']),
        'val_aAcc': float(metrics['aAcc']),
    }
