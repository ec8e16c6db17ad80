"""The quick-start: the whole hand-off on data that needs no download.

1. Build the texture mosaics (:mod:`mmssl_seg.datasets.texture_mosaic`).
2. Pretrain: stock DeepLabV3-R18 on all mosaic labels (a stand-in until the
   method issues replace this stage with their own pretraining).
3. Extract the backbone into a tensors-only checkpoint, checked against the
   stock PSPNet it is meant for.
4. Fine-tune stock PSPNet-R18 on 10 % of the labels from that checkpoint and,
   with the same seed and budget, from random init.
5. Evaluate both on val and draw image | ground truth | both predictions.

Every stage is skipped when its output exists, so a rerun is quick.
"""
from __future__ import annotations

import os.path as osp
import time

import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from mmssl_seg.apis.runner import build_runner, load_config
from mmssl_seg.datasets.label_splits import split_name, write_label_splits
from mmssl_seg.datasets.texture_mosaic import (TextureMosaicDataset,
                                               build_texture_mosaics)
from mmssl_seg.utils.checkpoint import extract_pretrained
from mmssl_seg.utils.io import write_json
from mmssl_seg.visualization.panels import colorize, save_panel_grid

PRETRAIN_CONFIG = 'configs/demo/deeplabv3_r18-d8_1xb8-240_mosaic-64x64.py'
FINETUNE_CONFIG = 'configs/demo/pspnet_r18-d8_1xb8-120_mosaic-64x64.py'
LABEL_FRACTION = 10


def _pretrained_init(checkpoint: str) -> dict:
    """``--cfg-options`` that load a backbone the MMSelfSup way."""
    return {
        'model.backbone.init_cfg': dict(
            type='Pretrained', checkpoint=checkpoint, prefix='backbone.')
    }


def _schedule(max_iters: int) -> dict:
    """``--cfg-options`` for a shorter or longer run of a demo config."""
    return {
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters,
        'default_hooks.checkpoint.interval': max_iters,
        'param_scheduler': [dict(type='PolyLR', eta_min=1e-4, power=0.9,
                                 begin=0, end=max_iters, by_epoch=False)],
    }


def _train_or_reuse(config: str, work_dir: str, options: dict,
                    seed: int) -> tuple[object, str]:
    """Train ``config`` unless its final checkpoint exists; return a runner
    holding the trained weights and the checkpoint path."""
    cfg = load_config(config, work_dir, {**options, 'randomness.seed': seed})
    final = osp.join(work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    if osp.isfile(final):
        cfg.load_from = final  # our own work_dir: trusted
        runner = build_runner(cfg)
        runner.load_or_resume()
    else:
        runner = build_runner(cfg)
        runner.train()
    return runner, final


def _predict(runner, dataset, indices) -> list[np.ndarray]:
    model = runner.model
    model.eval()
    outputs = []
    with torch.no_grad():
        for i in indices:
            result = model.test_step(pseudo_collate([dataset[i]]))[0]
            outputs.append(result.pred_sem_seg.data[0].cpu().numpy())
    return outputs


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
    splits = write_label_splits(
        osp.join(data_root, 'train.txt'), osp.join(data_root, 'splits'),
        fractions=[LABEL_FRACTION], seeds=[seed])
    split_file = splits['splits'][split_name('train', LABEL_FRACTION,
                                             seed)]['file']
    data = {
        'train_dataloader.dataset.data_root': data_root,
        'val_dataloader.dataset.data_root': data_root,
        'test_dataloader.dataset.data_root': data_root,
    }
    timings['data'] = time.time() - start

    start = time.time()
    pretrain = dict(data, **_schedule(pretrain_iters)) if pretrain_iters \
        else data
    _, pretrain_ckpt = _train_or_reuse(
        PRETRAIN_CONFIG, osp.join(work_dir, 'pretrain'), pretrain, seed)
    timings['pretrain'] = time.time() - start

    backbone_ckpt = osp.join(work_dir, 'pretrained_backbone.pth')
    reports = extract_pretrained(pretrain_ckpt, backbone_ckpt,
                                 FINETUNE_CONFIG, parts=['backbone'])

    few_labels = {**data, 'train_dataloader.dataset.ann_file': split_file}
    if finetune_iters:
        few_labels.update(_schedule(finetune_iters))
    runs, metrics = {}, {}
    for name, options in (('random init', {}),
                          ('pretrained', _pretrained_init(backbone_ckpt))):
        start = time.time()
        tag = name.replace(' ', '_')
        runner, _ = _train_or_reuse(FINETUNE_CONFIG,
                                    osp.join(work_dir, f'finetune_{tag}'),
                                    {**few_labels, **options}, seed)
        metrics[name] = runner.test()
        runs[name] = runner
        timings[f'finetune {name}'] = time.time() - start

    val = runs['pretrained'].test_dataloader.dataset
    picks = list(range(min(num_pictures, len(val))))
    predictions = {name: _predict(r, val, picks) for name, r in runs.items()}
    palette = TextureMosaicDataset.METAINFO['palette']
    rows = []
    for row, i in enumerate(picks):
        item = val[i]
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # BGR->RGB
        gt = item['data_samples'].gt_sem_seg.data[0].numpy()
        rows.append([np.ascontiguousarray(image), colorize(gt, palette)] + [
            colorize(predictions[name][row], palette) for name in runs
        ])
    picture = osp.join(work_dir, 'predictions.png')
    save_panel_grid(rows, ['image', 'ground truth'] +
                    [f'{name} ({metrics[name]["mIoU"]:.1f})'
                     for name in runs], picture,
                    legend=(TextureMosaicDataset.METAINFO['classes'], palette))

    results = {
        'label_fraction_percent': LABEL_FRACTION,
        'seed': seed,
        'pretrain_config': PRETRAIN_CONFIG,
        'finetune_config': FINETUNE_CONFIG,
        'pretrained_backbone': backbone_ckpt,
        'extracted_tensors': sum(r.tensors for r in reports),
        'val_mIoU': {n: round(float(m['mIoU']), 2)
                     for n, m in metrics.items()},
        'val_aAcc': {n: round(float(m['aAcc']), 2)
                     for n, m in metrics.items()},
        'seconds': {k: round(v, 1) for k, v in timings.items()},
        'picture': picture,
    }
    write_json(osp.join(work_dir, 'results.json'), results)
    return results

