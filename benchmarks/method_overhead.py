"""Each method's own share of a training step at its paper-scale config's
per-GPU batch and resolution, and what in that share would stall a GPU.

    python benchmarks/method_overhead.py [--methods mask_contrast ...]
        [--repeats 3] [--device cpu|cuda] [--amp] [--batch N] [--mini]
        [--prior-root DIR] [--out benchmarks/results/method_overhead.json]
    python benchmarks/method_overhead.py --count-syncs [--mini] [--verbose]

A step is what the runner does: the algorithm's ``loss()`` on a real batch
(voc12_mini images through the config's own pipeline at the config's view
or crop size, with priors made from the ground truth: foreground as the
saliency mask, classes as auxiliary labels with SLIC superpixels,
colour-gradient region trees), the backward pass and, for momentum
encoders, the EMA update; every queue and memory bank is filled to its
size first, as in training. The network part is measured by replaying
exactly the network calls the step made (recorded on the algorithm's
encoder function: ``_head``, ``embed``, ``_embed``, ``dense_features``),
forward and backward for the calls that had gradients and forward only for
the key encoder's. The method's own work (sampling, graph or pair
construction, prototypes, losses, queues and banks, EMA) is the difference.
Medians of ``--repeats`` after one warm-up. ``--amp`` runs the step and the
replay under float16 autocast; on CUDA the peak memory of each is reported.
``--mini`` takes the mini configs at their batch instead (CPU speed).
``--prior-root`` keeps the made priors (``DIR/<method>``) for another run,
e.g. on a machine without the prior tools' packages.

``--count-syncs`` runs one step per method on the CPU under
:class:`~mmssl_seg.utils.sync_guard.SyncGuard` and prints one JSON line
each: ``{"method", "host_syncs", "ops", "graph_breaks"}`` (ops of our code
that would make a GPU wait for the host, every op of our code, and the
graph breaks of the loss under ``torch._dynamo.explain``); ``--verbose``
lists where each sync is.
"""
from __future__ import annotations

import argparse
import json
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

#: method -> (mini config, batch): the CPU configs (``--mini``)
MINI = {
    'mask_contrast': ('configs/mask_contrast/mask-contrast_r18-d8_1xb16-500_'
                      'voc12mini-96x96.py', 16),
    'hier_grouping': ('configs/hier_grouping/hier-grouping_r18_1xb16-400_'
                      'voc12mini-112x112.py', 16),
    'aux_contrast': ('configs/aux_contrast/aux-contrast_deeplabv3_r18-d8_'
                     '1xb8-300_voc12mini-128x128.py', 8),
    'mix_match': ('configs/mix_match/mix-match_vgg16-bn_1xb4-200_'
                  'voc12mini-128x128.py', 4),
}
#: method -> the path of its loss module in the model (graph breaks)
LOSSES = {'mask_contrast': 'head.loss_contrast',
          'hier_grouping': 'head.loss_fn',
          'aux_contrast': 'head.loss_contrast',
          'mix_match': 'head.loss_triplet'}
#: method -> (paper-scale config, per-GPU batch, encoder function name)
METHODS = {
    'mask_contrast': ('configs/mask_contrast/mask-contrast_r50-d8_4xb16-'
                      '60e_voc12aug-224x224_unsup-sal.py', 16, '_head'),
    'hier_grouping': ('configs/hier_grouping/hier-grouping_r50_1xb70-80e_'
                      'voc12aug-coco-224x224.py', 70, 'embed'),
    'aux_contrast': ('configs/aux_contrast/aux-contrast_deeplabv3_r50-d8_'
                     '8xb16-20e_nyuv2-321x361.py', 16, '_embed'),
    'mix_match': ('configs/mix_match/mix-match_vgg16-bn_1xb16-8k_'
                  'voc12aug-512x512.py', 16, 'dense_features'),
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


def real_batch(method: str, batch: int, folder: str,
               config: str | None = None):
    from mmengine.registry import FUNCTIONS, init_default_scope
    from mmseg.registry import DATASETS
    config = config or METHODS[method][0]
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


def fill_queues(model, generator: torch.Generator) -> None:
    """Every queue of the model full, as after the first epochs of
    training (the bank's pairs then cost what they cost in training): unit
    random features, labels of the 21 VOC classes, superpixels, and image
    ids of past images (never the timed batch's)."""
    from mmssl_seg.models.utils.queue import FeatureQueue
    per_image = getattr(model, 'bank_per_image', 1)
    for queue in model.modules():
        if not isinstance(queue, FeatureQueue):
            continue
        for name in queue.field_names:
            buffer = getattr(queue, name)
            if buffer.is_floating_point():
                buffer.copy_(torch.nn.functional.normalize(torch.randn(
                    buffer.shape, generator=generator), dim=-1))
            elif name == 'images':
                buffer.copy_(10**6 + torch.arange(queue.size) // per_image)
            else:
                buffer.copy_(torch.randint(0, 21, buffer.shape,
                                           generator=generator))
        queue.ptr.zero_()
        queue.count.fill_(queue.size)


def measure(method: str, repeats: int, device: str, batch: int | None,
            folder: str, amp: bool = False, mini: bool = False) -> dict:
    config, paper_batch, fn_name = METHODS[method]
    if mini:
        config, paper_batch = MINI[method]
    batch = batch or paper_batch
    cfg, data = real_batch(method, batch, folder, config)
    cfg.model.pop('init_cfg', None)
    cfg.model.get('backbone', {}).pop('init_cfg', None)
    model = build_model(cfg).train()
    with torch.no_grad():
        fill_queues(model, torch.Generator().manual_seed(0))
    model = model.to(device)
    data = model.data_preprocessor(data, True)
    inputs, samples = data['inputs'], data['data_samples']
    recorder = Recorder(model, fn_name)
    momentum = getattr(model, 'momentum', None)

    def autocast():
        return torch.autocast(device, dtype=torch.float16, enabled=amp)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        with autocast():
            losses = model.loss(inputs, samples)
            loss = sum(v for k, v in losses.items() if 'loss' in k)
        loss.backward()
        if momentum is not None:  # what MomentumUpdateHook does
            model.update_momentum_encoder(1.0 - momentum)

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


def count_syncs(method: str, folder: str, mini: bool = False) -> dict:
    """One step of ``method`` (its paper config at the per-GPU batch, or its
    mini config) on the CPU under :class:`SyncGuard`: the host
    synchronisations and ops of our code, and the graph breaks of its loss
    under ``torch._dynamo.explain``."""
    from types import SimpleNamespace

    from mmssl_seg.engine.hooks import MomentumUpdateHook
    from mmssl_seg.utils.sync_guard import SyncGuard
    config, batch = MINI[method] if mini else METHODS[method][:2]
    cfg, data = real_batch(method, batch, folder, config)
    cfg.model.pop('init_cfg', None)
    cfg.model.get('backbone', {}).pop('init_cfg', None)
    model = build_model(cfg).train()
    data = model.data_preprocessor(data, True)
    loss_module = model.get_submodule(LOSSES[method])
    # the GPU's way: chunks of its memory budget, fixed shapes
    if hasattr(loss_module, 'cpu_memory_mb'):
        loss_module.cpu_memory_mb = loss_module.memory_mb
    if hasattr(model, 'fixed_shapes'):
        model.fixed_shapes = True
    calls = []
    entries = {name: getattr(loss_module, name) for name in
               ('forward', 'from_pixels') if hasattr(loss_module, name)}

    def recorder(fn):
        def recording(*args, **kwargs):
            calls.append((fn, args, kwargs))
            return fn(*args, **kwargs)
        return recording

    for name, fn in entries.items():
        setattr(loss_module, name, recorder(fn))
    runner = SimpleNamespace(model=model, iter=0, max_iters=1)
    with SyncGuard() as guard:
        losses = model.loss(data['inputs'], data['data_samples'])
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        if hasattr(model, 'momentum_encoder'):
            MomentumUpdateHook().after_train_iter(runner, 0)
    for name, fn in entries.items():
        setattr(loss_module, name, fn)
    fn, args, kwargs = calls[0]
    detached = [a.detach().requires_grad_(a.requires_grad)
                if isinstance(a, torch.Tensor) else a for a in args]
    torch._dynamo.reset()
    explained = torch._dynamo.explain(fn)(*detached, **kwargs)
    result = {'method': method, 'host_syncs': len(guard.syncs),
              'ops': guard.total_ops,
              'graph_breaks': explained.graph_break_count}
    return result, guard


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
    parser.add_argument('--count-syncs', action='store_true',
                        help='one step per method on the CPU: print a JSON '
                        'line of its host syncs, ops and graph breaks')
    parser.add_argument('--mini', action='store_true',
                        help='the mini configs at their batch (CPU)')
    parser.add_argument('--verbose', action='store_true',
                        help='--count-syncs: list where each sync is')
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.count_syncs:
        for method in args.methods:
            with tempfile.TemporaryDirectory() as tmp:
                result, guard = count_syncs(method, tmp, args.mini)
            print(json.dumps(result), flush=True)
            if args.verbose:
                print(guard.report(), file=sys.stderr)
        return
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
                args.amp, args.mini)
        r = results['methods'][method]
        print(f'{method}: step {r["step_seconds"]:.2f} s, network '
              f'{r["network_seconds"]:.2f} s, method '
              f'{100 * r["method_share"]:.1f} %', file=sys.stderr)
    write_result(results, args.out)


if __name__ == '__main__':
    main()
