"""The quick-start: a self-supervised method, end to end, on data that needs
no download.

1. Build the texture mosaics (:mod:`mmssl_seg.datasets.texture_mosaic`).
2. Region trees of the train images with the paper's grouping primitive,
   the default of ``make_hierarchies.py``: the packaged structured edge
   forest (SE-MS, sharpened) + 0.1 sPb, OWT-UCM
   (:func:`mmssl_seg.priors.hierarchy.make_hierarchies`).
3. Pretrain with hierarchical grouping on them, no labels
   (``configs/demo/hier-grouping_*``, :data:`METHOD_ITERS`); the supervised
   stand-in (stock DeepLabV3-R18 on all labels) for its config's 240.
4. Extract each backbone into a tensors-only checkpoint for stock
   DeepLabV3-R18-D8, the suite's evaluation segmentor. The grouping network
   computes Res2-Res4 only (its hypercolumn reads Res3 and Res4, as in the
   paper), so Res5 (``layer4``) starts at random init: named, not silent.
5. Fine-tune DeepLabV3 on 10 % of the labels from each checkpoint and from
   random init, same splits, seeds and budget (the label-fraction protocol
   of :mod:`mmssl_seg.evaluation.protocols.label_fraction`, the suite's
   ``finetune_10``).
6. Draw image | ground truth | each init's prediction, titled with mean +- std
   over the seeds.

Every stage is skipped when its output exists, so a rerun is quick.
"""
from __future__ import annotations

import os.path as osp
import time
from typing import Sequence

import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from mmssl_seg.checkpoint.converter import extract_pretrained
from mmssl_seg.checkpoint.loading import load_model
from mmssl_seg.datasets.builder import build_eval_dataset
from mmssl_seg.datasets.texture_mosaic import (
    TextureMosaicDataset,
    build_texture_mosaics,
)
from mmssl_seg.engine.runner import build_runner, load_config
from mmssl_seg.evaluation.protocols.label_fraction import run_label_fractions
from mmssl_seg.priors.hierarchy import (
    DEFAULT_FOREST,
    DEFAULT_MULTISCALE,
    DEFAULT_SHARPEN,
    DEFAULT_SPECTRAL,
    DEFAULT_SPECTRAL_SIZE,
    SpectralEdges,
    StructuredForestEdges,
    make_hierarchies,
)
from mmssl_seg.utils.io import write_json
from mmssl_seg.visualization.panels import colorize, save_panel_grid

METHOD_CONFIG = 'configs/demo/hier-grouping_r18_1xb16-300_mosaic-64x64.py'
SUPERVISED_CONFIG = 'configs/demo/deeplabv3_r18-d8_1xb8-240_mosaic-64x64.py'
FINETUNE_CONFIG = SUPERVISED_CONFIG
#: The most grouping iterations that keep the demo near 10 minutes on 2
#: cores (docs/quickstart.md: 700 took 210 s of 10.9 minutes; the mosaic
#: suite's 1412 took 13.3 minutes and did no better)
METHOD_ITERS = 700
#: The mosaic suite's fine-tuning budget (its ``finetune_10``)
FINETUNE_ITERS = 120
LABEL_FRACTION = 10
#: Backbone weights the grouping network does not have (it stops at Res4)
METHOD_LEAVES_RANDOM = [r'^layer4\.']
INITS = ('random init', 'hierarchical grouping', 'supervised stand-in')


def _schedule(max_iters: int) -> dict:
    """``cfg_options`` for a shorter or longer run of a demo config."""
    return {
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters,
        'default_hooks.checkpoint.interval': max_iters,
        'param_scheduler': [dict(type='PolyLR', eta_min=1e-4, power=0.9,
                                 begin=0, end=max_iters, by_epoch=False)],
    }


def _pretrain(config: str, work_dir: str, options: dict) -> str:
    """Train ``config`` unless its final checkpoint exists; return it."""
    cfg = load_config(config, work_dir, options)
    checkpoint = osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    if not osp.isfile(checkpoint):
        build_runner(cfg).train()
    return checkpoint


def _predict(model, dataset, indices) -> list[np.ndarray]:
    with torch.no_grad():
        return [
            model.test_step(pseudo_collate([dataset[i]]))[0].pred_sem_seg.data[
                0].numpy() for i in indices
        ]


def run_demo(work_dir: str = 'work_dirs/demo',
             seeds: Sequence[int] = (0, 1),
             num_pictures: int = 6,
             method_iters: int | None = None,
             supervised_iters: int | None = None,
             finetune_iters: int | None = None,
             num_train: int = 240,
             num_val: int = 60) -> dict:
    """Run the quick-start; return (and write) its results.

    Args:
        work_dir: Where data, priors, checkpoints, results and the picture go.
        seeds: Seeds of the label splits and fine-tunings (the pretrainings
            use the first).
        num_pictures: Val images drawn in ``predictions.png``.
        method_iters / supervised_iters / finetune_iters: Override the
            iterations (default :data:`METHOD_ITERS`, the supervised
            config's, :data:`FINETUNE_ITERS`).
        num_train / num_val: Size of the texture-mosaic dataset.
    """
    timings = {}

    def timed(name: str, start: float) -> None:
        timings[name] = round(time.time() - start, 1)

    start = time.time()
    data_root = osp.join(work_dir, 'texture_mosaics')
    build_texture_mosaics(data_root, num_train=num_train, num_val=num_val)
    data = {f'{split}_dataloader.dataset.data_root': data_root
            for split in ('train', 'val', 'test')}
    timed('data', start)

    start = time.time()
    trees = osp.join(work_dir, 'hierarchies')
    ids = open(osp.join(data_root, 'train.txt')).read().split()
    make_hierarchies(  # make_hierarchies.py's defaults: the paper's
        [(i, osp.join(data_root, 'images', 'train', f'{i}.jpg'))
         for i in ids], trees,
        SpectralEdges(StructuredForestEdges(DEFAULT_FOREST,
                                            DEFAULT_MULTISCALE,
                                            DEFAULT_SHARPEN),
                      DEFAULT_SPECTRAL, DEFAULT_SPECTRAL_SIZE))
    timed('region trees', start)

    start = time.time()
    options = {
        'train_dataloader.dataset.data_prefix.img_path':
        osp.join(data_root, 'images', 'train'),
        'train_dataloader.dataset.ann_file': osp.join(trees, 'ids.txt'),
        'train_dataloader.dataset.pipeline.1.root': trees,
        'randomness.seed': seeds[0],
        # on 2 threads the grouping loss's gradient sums in varying order
        # (indexing's backward): the same seed gave 57.1 and 61.0 after
        # fine-tuning; torch's deterministic kernels make a rerun the same
        'randomness.deterministic': True}
    method_iters = method_iters or METHOD_ITERS
    options.update(_schedule(method_iters), param_scheduler=[
        dict(type='MultiStepLR', by_epoch=False,
             milestones=[method_iters * 3 // 4], gamma=0.1)])
    method_ckpt = _pretrain(METHOD_CONFIG, osp.join(work_dir, 'pretrain_hg'),
                            options)
    timed('pretrain hierarchical grouping', start)

    start = time.time()
    options = {**data, 'randomness.seed': seeds[0]}
    if supervised_iters:
        options.update(_schedule(supervised_iters))
    supervised_ckpt = _pretrain(SUPERVISED_CONFIG,
                                osp.join(work_dir, 'pretrain_supervised'),
                                options)
    timed('pretrain supervised stand-in', start)

    backbones = {
        'hierarchical grouping': osp.join(work_dir, 'backbone_hg.pth'),
        'supervised stand-in': osp.join(work_dir,
                                        'backbone_supervised.pth')}
    extract_pretrained(method_ckpt, backbones['hierarchical grouping'],
                       FINETUNE_CONFIG, parts=['backbone'],
                       allow_missing=METHOD_LEAVES_RANDOM)
    extract_pretrained(supervised_ckpt, backbones['supervised stand-in'],
                       FINETUNE_CONFIG, parts=['backbone'])

    finetune = dict(data, **_schedule(finetune_iters or FINETUNE_ITERS))
    results, models = {}, {}
    for name in INITS:
        start = time.time()
        options = dict(finetune)
        if name == 'hierarchical grouping':  # layer4 stays random, by name
            options['custom_hooks'] = [dict(
                type='PretrainedInitCheckHook',
                allow_missing=METHOD_LEAVES_RANDOM)]
        run = run_label_fractions(
            FINETUNE_CONFIG, backbones.get(name),
            osp.join(work_dir, 'finetune_' + name.replace(' ', '_')),
            fractions=[LABEL_FRACTION], seeds=list(seeds),
            cfg_options=options)
        results[name] = run
        first = next(k for k, r in run['runs'].items()
                     if r['seed'] == seeds[0])
        cfg = load_config(FINETUNE_CONFIG, None, finetune)
        models[name] = load_model(
            cfg, osp.join(run['work_dir'], first,
                          f'iter_{cfg.train_cfg.max_iters}.pth'),
            required=('backbone', 'decode_head'))
        timed(f'finetune {name}', start)

    summary_of = {name: run['mIoU_per_fraction'][f'{LABEL_FRACTION:g}']
                  for name, run in results.items()}
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
            colorize(predictions[name][row], palette) for name in INITS
        ])
    picture = osp.join(work_dir, 'predictions.png')
    save_panel_grid(
        rows, ['image', 'ground truth'] + [
            f'{name}\n{summary_of[name]["mean"]:.1f} +- '
            f'{summary_of[name]["std"]:.1f}' for name in INITS
        ], picture, legend=(TextureMosaicDataset.METAINFO['classes'],
                            palette))

    summary = {
        'label_fraction_percent': LABEL_FRACTION,
        'labelled_images': summary_of['random init']['labelled_images'],
        'seeds': list(seeds),
        'method_config': METHOD_CONFIG,
        'supervised_config': SUPERVISED_CONFIG,
        'finetune_config': FINETUNE_CONFIG,
        'backbones': backbones,
        'left_at_random_init': {'hierarchical grouping':
                                METHOD_LEAVES_RANDOM},
        'val_mIoU': {name: {k: round(v, 2) for k, v in s.items()
                            if k in ('mean', 'std')}
                     for name, s in summary_of.items()},
        'val_mIoU_runs': {name: [round(r['mIoU'], 2)
                                 for r in results[name]['runs'].values()]
                          for name in INITS},
        'seconds': timings,
        'picture': picture,
    }
    write_json(osp.join(work_dir, 'results.json'), summary)
    return summary
