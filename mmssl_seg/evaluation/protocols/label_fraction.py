"""Label-fraction fine-tuning: fine-tune a stock model from a converted
checkpoint (or from random init) on each label fraction's seeded splits and
report the mean and std of val mIoU per fraction (MaskContrast Table 6, three
splits per fraction)."""
from __future__ import annotations

import json
import os.path as osp
from typing import Sequence

from mmssl_seg.checkpoint.io import weights_sha256
from mmssl_seg.datasets.label_splits import split_name, write_label_splits
from mmssl_seg.engine.runner import (
    build_runner,
    load_config,
    pretrained_init,
    rescale_schedule,
)
from mmssl_seg.evaluation.report import mean_std
from mmssl_seg.utils.io import write_json


def _load(path: str) -> dict:
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def run_label_fractions(finetune_config: str,
                        checkpoint: str | None,
                        work_dir: str,
                        fractions: Sequence[float] = (1, 2, 5, 12.5, 100),
                        seeds: Sequence[int] = (0, 1, 2),
                        parts: Sequence[str] = ('backbone', ),
                        cfg_options: dict | None = None,
                       max_iters: int | None = None) -> dict:
    """Fine-tune ``finetune_config`` once per (fraction, seed); a run whose
    ``result.json`` exists with the same settings (and the same weights:
    :func:`weights_sha256`) is not repeated.

    Args:
        checkpoint: A tensors-only file of ``extract_pretrained.py`` whose
            ``parts`` initialise the model; ``None`` for random init.
        cfg_options: Applied to every run.
        max_iters: Fine-tune this many iterations, the schedule scaled to
            match (``rescale_schedule``); default the config's.
    """
    cfg_options = dict(cfg_options or {})
    base = load_config(finetune_config, work_dir, cfg_options)
    train_set = base.train_dataloader.dataset
    ann_file = train_set.ann_file
    if not osp.isabs(ann_file):
        ann_file = osp.join(train_set.data_root, ann_file)
    splits = write_label_splits(ann_file, osp.join(work_dir, 'splits'),
                                fractions, seeds)['splits']
    stem = osp.splitext(osp.basename(ann_file))[0]
    init = pretrained_init(checkpoint, tuple(parts)) if checkpoint else {}
    # a finished run is reused only if it was run with the same settings,
    # the same weights included (a retrained checkpoint keeps its path)
    settings = {'checkpoint': checkpoint,
                'weights_sha256': checkpoint and weights_sha256(checkpoint),
                'parts': list(parts),
                'max_iters': max_iters or base.train_cfg.max_iters,
                'cfg_options': {k: str(v) for k, v in cfg_options.items()}}
    runs = {}
    for fraction in fractions:
        for seed in seeds:
            name = split_name(stem, fraction, seed)
            run_dir = osp.join(work_dir, name)
            result_file = osp.join(run_dir, 'result.json')
            if _load(result_file).get('settings') != settings:
                # val = test here: validating at the end of training and
                # then testing would score the same weights twice
                options = {**cfg_options, **init,
                           'train_dataloader.dataset.ann_file':
                           splits[name]['file'],
                           'randomness.seed': seed, 'val_dataloader': None,
                           'val_cfg': None, 'val_evaluator': None}
                cfg = load_config(finetune_config, run_dir, options)
                if max_iters:
                    rescale_schedule(cfg, max_iters)
                runner = build_runner(cfg)
                runner.train()
                metrics = runner.test()
                write_json(result_file, {
                    'mIoU': float(metrics['mIoU']),
                    'aAcc': float(metrics['aAcc']),
                    'labelled_images': splits[name]['num_ids'],
                    'settings': settings})
            runs[name] = dict(_load(result_file), fraction=fraction,
                              seed=seed)
    per_fraction = {
        f'{fraction:g}': dict(
            mean_std(r['mIoU'] for r in runs.values()
                     if r['fraction'] == fraction),
            labelled_images=next(r['labelled_images'] for r in runs.values()
                                 if r['fraction'] == fraction))
        for fraction in fractions
    }
    return {'finetune_config': finetune_config,
            'checkpoint': checkpoint or 'random init', 'work_dir': work_dir,
            'parts': list(parts), 'seeds': list(seeds),
            'max_iters': max_iters or base.train_cfg.max_iters,
            'mIoU_per_fraction': per_fraction, 'runs': runs}
