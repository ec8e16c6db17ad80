"""The quick-start: the whole hand-off on data that needs no download.

1. Build the texture mosaics (:mod:`mmssl_seg.datasets.texture_mosaic`).
2. Pretrain: stock DeepLabV3-R18 on all mosaic labels (a stand-in until the
   method issues replace this stage with their own pretraining).
3. Extract the backbone into a tensors-only checkpoint, checked against the
   stock PSPNet it is meant for.
4. Fine-tune stock PSPNet-R18 on 10 % of the labels from that checkpoint and,
   with the same seed and budget, from random init (the label-fraction
   protocol of :mod:`mmssl_seg.evaluation.protocols.label_fraction`).
5. Draw image | ground truth | both predictions.

Every stage is skipped when its output exists, so a rerun is quick.
"""
from __future__ import annotations

import os.path as osp
import time

import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from mmssl_seg.datasets.builder import build_eval_dataset
from mmssl_seg.datasets.texture_mosaic import (
    TextureMosaicDataset,
    build_texture_mosaics,
)
from mmssl_seg.engine.runner import build_runner, load_config
from mmssl_seg.evaluation.protocols.label_fraction import run_label_fractions
from mmssl_seg.models.builder import load_model
from mmssl_seg.models.converter import extract_pretrained
from mmssl_seg.utils.io import write_json
from mmssl_seg.visualization.panels import colorize, save_panel_grid

PRETRAIN_CONFIG = 'configs/demo/deeplabv3_r18-d8_1xb8-240_mosaic-64x64.py'
FINETUNE_CONFIG = 'configs/demo/pspnet_r18-d8_1xb8-120_mosaic-64x64.py'
LABEL_FRACTION = 10


def _schedule(max_iters: int) -> dict:
    """``cfg_options`` for a shorter or longer run of a demo config."""
    return {
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters,
        'default_hooks.checkpoint.interval': max_iters,
        'param_scheduler': [dict(type='PolyLR', eta_min=1e-4, power=0.9,
                                 begin=0, end=max_iters, by_epoch=False)],
    }


def _predict(model, dataset, indices) -> list[np.ndarray]:
    with torch.no_grad():
        return [
            model.test_step(pseudo_collate([dataset[i]]))[0].pred_sem_seg.data[
                0].numpy() for i in indices
        ]


def run_demo(work_dir: str = 'work_dirs/demo',
             seed: int = 0,
             num_pictures: int = 6,
             pretrain_iters: int | None = None,
             finetune_iters: int | None = None,
             num_train: int = 240,
             num_val: int = 60) -> dict:
    """Run the quick-start; return (and write) its results.

    Args:
        work_dir: Where data, checkpoints, results and the picture go.
        seed: Seed of the label split and of every training run.
        num_pictures: Val images drawn in ``predictions.png``.
        pretrain_iters / finetune_iters: Override the configs' iterations.
        num_train / num_val: Size of the texture-mosaic dataset.
    """
    timings = {}
    start = time.time()
    data_root = osp.join(work_dir, 'texture_mosaics')
    build_texture_mosaics(data_root, num_train=num_train, num_val=num_val)
    data = {f'{split}_dataloader.dataset.data_root': data_root
            for split in ('train', 'val', 'test')}
    timings['data'] = time.time() - start

    start = time.time()
    options = {**data, 'randomness.seed': seed}
    if pretrain_iters:
        options.update(_schedule(pretrain_iters))
    cfg = load_config(PRETRAIN_CONFIG, osp.join(work_dir, 'pretrain'),
                      options)
    pretrain_ckpt = osp.join(cfg.work_dir,
                             f'iter_{cfg.train_cfg.max_iters}.pth')
    if not osp.isfile(pretrain_ckpt):
        build_runner(cfg).train()
    timings['pretrain'] = time.time() - start

    backbone_ckpt = osp.join(work_dir, 'pretrained_backbone.pth')
    reports = extract_pretrained(pretrain_ckpt, backbone_ckpt,
                                 FINETUNE_CONFIG, parts=['backbone'])

    finetune = dict(data)
    if finetune_iters:
        finetune.update(_schedule(finetune_iters))
    results, models = {}, {}
    for name, checkpoint in (('random init', None),
                             ('pretrained', backbone_ckpt)):
        start = time.time()
        run = run_label_fractions(
            FINETUNE_CONFIG, checkpoint,
            osp.join(work_dir, 'finetune_' + name.replace(' ', '_')),
            fractions=[LABEL_FRACTION], seeds=[seed], cfg_options=finetune)
        (run_name, result), = run['runs'].items()
        results[name] = result
        cfg = load_config(FINETUNE_CONFIG, None, finetune)
        models[name] = load_model(
            cfg, osp.join(run['work_dir'], run_name,
                          f'iter_{cfg.train_cfg.max_iters}.pth'),
            required=('backbone', 'decode_head'))
        timings[f'finetune {name}'] = time.time() - start

    val = build_eval_dataset(cfg, 'val')
    picks = list(range(min(num_pictures, len(val))))
    predictions = {name: _predict(m, val, picks) for name, m in models.items()}
    palette = TextureMosaicDataset.METAINFO['palette']
    rows = []
    for row, i in enumerate(picks):
        item = val[i]
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # to RGB
        gt = item['data_samples'].gt_sem_seg.data[0].numpy()
        rows.append([np.ascontiguousarray(image), colorize(gt, palette)] + [
            colorize(predictions[name][row], palette) for name in models
        ])
    picture = osp.join(work_dir, 'predictions.png')
    save_panel_grid(rows, ['image', 'ground truth'] +
                    [f'{name} ({results[name]["mIoU"]:.1f})'
                     for name in models], picture,
                    legend=(TextureMosaicDataset.METAINFO['classes'], palette))

    summary = {
        'label_fraction_percent': LABEL_FRACTION,
        'labelled_images': results['pretrained']['labelled_images'],
        'seed': seed,
        'pretrain_config': PRETRAIN_CONFIG,
        'finetune_config': FINETUNE_CONFIG,
        'pretrained_backbone': backbone_ckpt,
        'extracted_tensors': sum(r.tensors for r in reports),
        'val_mIoU': {n: round(r['mIoU'], 2) for n, r in results.items()},
        'val_aAcc': {n: round(r['aAcc'], 2) for n, r in results.items()},
        'seconds': {k: round(v, 1) for k, v in timings.items()},
        'picture': picture,
    }
    write_json(osp.join(work_dir, 'results.json'), summary)
    return summary
