"""Each method's own share of a training step at its paper-scale config's
per-GPU batch and resolution.

    python benchmarks/method_overhead.py [--methods mask_contrast ...]
        [--repeats 3] [--device cpu|cuda] [--amp] [--batch N]
        [--prior-root DIR] [--out benchmarks/results/method_overhead.json]

A step is what the runner does: the algorithm's ``loss()`` on a real batch
(voc12_mini images through the config's own pipeline at the config's view
or crop size, with priors made from the ground truth: foreground as the
saliency mask, classes as auxiliary labels with SLIC superpixels,
colour-gradient region trees), the backward pass and, for momentum
encoders, the EMA update. The network part is measured by replaying exactly
the network calls the step made (recorded on the algorithm's encoder
function: ``_head``, ``embed``, ``_embed``, ``patch_features``), forward and
backward for the calls that had gradients and forward only for the key
encoder's. The method's own work (sampling, graph or pair construction,
prototypes, losses, queues and banks, EMA) is the difference. Medians of
``--repeats`` after one warm-up. ``--amp`` runs the step and the replay
under float16 autocast; on CUDA the peak memory of each is reported.
``--prior-root`` keeps the made priors (``DIR/<method>``) for another run,
e.g. on a machine without the prior tools' packages.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
import tempfile
import time

import cv2
import numpy as np
import torch
from common import DATA, REPO, write_result
from mmengine.config import Config
from PIL import Image

import mmssl_seg  # noqa: F401
from mmssl_seg.models.builder import build_model

VOC = osp.join(DATA, 'voc12_mini/VOCdevkit/VOC2012')

#: method -> (paper-scale config, per-GPU batch, encoder function name)
METHODS = {
    'mask_contrast': ('configs/mask_contrast/mask-contrast_r50-d8_4xb16-'
                      '60e_voc12aug-224x224_unsup-sal.py', 16, '_head'),
    'hier_grouping': ('configs/hier_grouping/hier-grouping_r50_1xb70-80e_'
                      'voc12aug-coco-224x224.py', 70, 'embed'),
    'aux_contrast': ('configs/aux_contrast/aux-contrast_deeplabv3_r50-d8_'
                     '8xb16-20e_nyuv2-321x361.py', 16, '_embed'),
    'mix_match': ('configs/mix_match/mix-match_vgg16-bn_1xb16-8k_'
                  'voc12aug-512x512.py', 16, 'patch_features'),
}


def _ids(count: int) -> list[str]:
    ids = open(osp.join(VOC, 'ImageSets/Segmentation/train.txt')).read(
    ).split()
    return (ids * (count // len(ids) + 1))[:count]


def _gt(stem: str) -> np.ndarray:
    return np.array(Image.open(osp.join(VOC, 'SegmentationClass',
                                        stem + '.png')))


def _priors(method: str, ids: list[str], folder: str,
            make: bool = True) -> dict:
    """Write the method's prior files for ``ids`` (unless ``make`` is
    False: they are there); return the environment variables that point the
    config at them."""
    from mmssl_seg.structures import prior_path
    env = {'VOC12_MINI_ROOT': VOC, 'VOC12_ROOT': VOC,
           {'mask_contrast': 'SALIENCY_DIR', 'aux_contrast': 'AUX_LABELS',
            'hier_grouping': 'HIERARCHY_DIR'}.get(method, 'UNUSED'): folder}
    unique = sorted(set(ids))
    if not make:
        return env
    if method == 'mask_contrast':
        for stem in unique:
            path = prior_path(folder, 'saliency_mask', stem)
            os.makedirs(osp.dirname(path), exist_ok=True)
            gt = _gt(stem)
            cv2.imwrite(path, ((gt > 0) & (gt < 255)).astype(np.uint8) * 255)
    elif method == 'aux_contrast':
        from skimage.segmentation import slic
        for stem in unique:
            gt = _gt(stem)
            labels = prior_path(folder, 'aux_labels', stem)
            spx = prior_path(folder, 'superpixels', stem)
            for p in (labels, spx):
                os.makedirs(osp.dirname(p), exist_ok=True)
            cv2.imwrite(labels, gt.astype(np.uint8))
            image = cv2.imread(osp.join(VOC, 'JPEGImages', stem + '.jpg'))
            cv2.imwrite(spx, slic(image[..., ::-1], n_segments=600,
                                  start_label=0).astype(np.uint16))
    elif method == 'hier_grouping':
        from mmssl_seg.priors.hierarchy import (
            ColourGradientEdges,
            make_hierarchies,
        )
        make_hierarchies([(s, osp.join(VOC, 'JPEGImages', s + '.jpg'))
                          for s in unique], folder, ColourGradientEdges(),
                         workers=2)
    with open(osp.join(folder, 'ids.txt'), 'w') as f:
        f.write('\n'.join(ids))
    return env


def _dataset_cfg(method: str, cfg: Config, folder: str) -> dict:
    """The config's training dataset on voc12_mini images (same pipeline)."""
    dataset = cfg.train_dataloader.dataset
    while 'datasets' in dataset or 'dataset' in dataset:  # Concat / wrappers
        dataset = (dataset['datasets'][0] if 'datasets' in dataset
                   else dataset['dataset'])
    dataset = dataset.copy()
    dataset.update(type='BaseSegDataset', data_root='', img_suffix='.jpg',
                   ann_file=osp.join(folder, 'ids.txt'),
                   data_prefix=dict(img_path=osp.join(VOC, 'JPEGImages')))
    if method == 'mix_match':
        dataset.update(
            data_prefix=dict(img_path=osp.join(VOC, 'JPEGImages'),
                             seg_map_path=osp.join(VOC, 'SegmentationClass')),
            seg_map_suffix='.png')
    for key in ('fallback_seg_map_path', 'indices'):
        dataset.pop(key, None)
    return dataset


def real_batch(method: str, batch: int, folder: str):
    from mmengine.registry import FUNCTIONS, init_default_scope
    from mmseg.registry import DATASETS
    config, _, _ = METHODS[method]
    ids = _ids(batch)
    ready = osp.isfile(osp.join(folder, 'ids.txt'))
    os.environ.update(_priors(method, ids, folder, make=not ready))
    cfg = Config.fromfile(osp.join(REPO, config))
    init_default_scope('mmseg')
    dataset = DATASETS.build(_dataset_cfg(method, cfg, folder))
    # the config's own collate function (MMSeg's default: pseudo_collate)
    collate = FUNCTIONS.get(cfg.train_dataloader.get(
        'collate_fn', {}).get('type', 'pseudo_collate'))
    return cfg, collate([dataset[i] for i in range(batch)])


def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


class Recorder:
    """Wraps the algorithm's encoder function: records every call (its
    arguments and whether it ran with gradients) while calling through."""

    def __init__(self, model, name: str) -> None:
        self.fn = getattr(model, name)
        self.calls = []
        setattr(model, name, self)

    def __call__(self, *args):
        self.calls.append((args, torch.is_grad_enabled()))
        return self.fn(*args)

    def replay(self) -> None:
        """The recorded calls alone: forward, and backward of a dot product
        with fixed weights for those that had gradients."""
        total = None
        for args, grad in self.calls:
            with torch.set_grad_enabled(grad):
                out = self.fn(*args)
            if grad:
                outs = out if isinstance(out, (list, tuple)) else [out]
                term = sum((o * 1e-3).sum() for o in outs)
                total = term if total is None else total + term
        if total is not None:
            total.backward()


def measure(method: str, repeats: int, device: str, batch: int | None,
            folder: str, amp: bool = False) -> dict:
    config, paper_batch, fn_name = METHODS[method]
    batch = batch or paper_batch
    cfg, data = real_batch(method, batch, folder)
    cfg.model.pop('init_cfg', None)
    model = build_model(cfg).to(device).train()
    data = model.data_preprocessor(data, True)
    inputs, samples = data['inputs'], data['data_samples']
    recorder = Recorder(model, fn_name)
    momentum = getattr(model, 'momentum_encoder', None)

    def autocast():
        return torch.autocast(device, dtype=torch.float16, enabled=amp)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        with autocast():
            losses = model.loss(inputs, samples)
            loss = sum(v for k, v in losses.items() if 'loss' in k)
        loss.backward()
        if momentum is not None:
            momentum.update_parameters(model.online_encoder)

    def network() -> None:
        model.zero_grad(set_to_none=True)
        with autocast():
            recorder.replay()

    step_times, net_times, peaks = [], [], {}
    for i in range(repeats + 1):  # the first pair warms up
        recorder.calls.clear()
        for name, fn, times in (('step', step, step_times),
                                ('network', network, net_times)):
            _sync(device)
            if device == 'cuda':
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            fn()
            _sync(device)
            times.append(time.perf_counter() - start)
            if device == 'cuda':
                peaks[name] = torch.cuda.max_memory_allocated() / 2**30
    step_s = float(np.median(step_times[1:]))
    net_s = float(np.median(net_times[1:]))
    return {
        'config': config, 'batch': batch, 'device': device, 'amp': amp,
        'peak_memory_gib': peaks or None,
        'input_shape': list(inputs[0].shape if isinstance(inputs, list)
                            else inputs.shape),
        'network_calls': len(recorder.calls),
        'step_seconds': step_s, 'network_seconds': net_s,
        'method_seconds': step_s - net_s,
        'method_share': (step_s - net_s) / step_s,
        'step_runs': step_times[1:], 'network_runs': net_times[1:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--methods', nargs='+', default=list(METHODS))
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--amp', action='store_true')
    parser.add_argument('--prior-root',
                        help='keep (or reuse) the priors in DIR/<method>')
    parser.add_argument('--batch', type=int,
                        help='override the per-GPU batch (all methods)')
    parser.add_argument('--out',
                        default='benchmarks/results/method_overhead.json')
    args = parser.parse_args()
    torch.manual_seed(0)
    results = {'threads': torch.get_num_threads(), 'methods': {}}
    if args.device == 'cuda':
        results['gpu'] = torch.cuda.get_device_name()
    for method in args.methods:
        with tempfile.TemporaryDirectory() as tmp:
            folder = (osp.join(args.prior_root, method) if args.prior_root
                      else tmp)
            os.makedirs(folder, exist_ok=True)
            results['methods'][method] = measure(
                method, args.repeats, args.device, args.batch, folder,
                args.amp)
        r = results['methods'][method]
        print(f'{method}: step {r["step_seconds"]:.2f} s, network '
              f'{r["network_seconds"]:.2f} s, method '
              f'{100 * r["method_share"]:.1f} %', file=sys.stderr)
    write_result(results, args.out)


if __name__ == '__main__':
    main()
