"""The auxiliary-label contrast loss, chunked (closed-form gradients in one
pass) vs dense (autograd), in one run: time and peak memory of
forward+backward, each variant repeated, medians and their ratios.

    python benchmarks/aux_contrast_loss.py [--anchors 10000]
        [--candidates 40000] [--channels 128] [--chunk 512] [--repeats 3]
        [--device cpu|cuda] [--out benchmarks/results/aux_contrast_loss.json]

Paper scale is 10k anchors x 40k candidates x 128 channels (30k of the
candidates from the memory bank, without gradient). On CPU each run is its
own process and peak memory is that process's peak resident size above the
inputs; on CUDA, ``max_memory_allocated``. Targets: chunked peak <= 0.05x
and time <= 0.5x the dense form, the same loss.
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from common import write_result


def run_one(args) -> dict:
    from mmssl_seg.models.losses.aux_contrast_loss import (
        AuxLabelContrastLoss,
        PixelMeta,
    )
    g = torch.Generator().manual_seed(0)
    dev = args.device
    n, m, c = args.anchors, args.candidates, args.channels

    def meta(k, bank):
        return PixelMeta(
            torch.randint(0, 30, (k, ), generator=g).to(dev),
            torch.randint(0, 200, (k, ), generator=g).to(dev),
            torch.randint(0, 16 if not bank else 400, (k, ),
                          generator=g).to(dev),
            (torch.full((k, ), -1) if bank else torch.arange(k)).to(dev))

    loss_fn = AuxLabelContrastLoss(chunk_size=args.chunk or None).to(dev)

    def inputs(n, m):
        batch = m // 4  # a quarter from the batch, the rest from the bank
        feats = torch.randn(n + batch, c, generator=g).to(dev)
        bank = F.normalize(torch.randn(m - batch, c, generator=g),
                           dim=1).to(dev)
        am, bm, km = meta(n, False), meta(batch, False), meta(m - batch, True)
        cm = PixelMeta(*(torch.cat([x, y]) for x, y in zip(bm, km)))
        return feats.requires_grad_(), bank, am, cm

    def step(feats, bank, am, cm):
        x = F.normalize(feats, dim=1)
        k = len(am.label)
        loss, stats = loss_fn(x[:k], am, torch.cat([x[k:], bank]), cm)
        loss.backward()
        return loss, stats

    feats, bank, am, cm = inputs(n, m)
    # one small step first: the runtime's one-time allocations (thread
    # pools, kernels loaded on first use) are not the loss's memory
    step(*inputs(64, 256))
    if dev == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    loss, stats = step(feats, bank, am, cm)
    if dev == 'cuda':
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    return {'seconds': time.perf_counter() - start, 'peak_bytes': peak,
            'loss': loss.item(), 'positive_pairs': sum(
                stats[k] for k in ('pairs_p0', 'pairs_p1', 'pairs_p2'))}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--anchors', type=int, default=10000)
    parser.add_argument('--candidates', type=int, default=40000)
    parser.add_argument('--channels', type=int, default=128)
    parser.add_argument('--chunk', type=int, default=512)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--one', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument(
        '--out', default='benchmarks/results/aux_contrast_loss.json')
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args)))
        return
    result = {k: getattr(args, k) for k in ('anchors', 'candidates',
                                            'channels', 'chunk', 'device',
                                            'repeats')}
    result['threads'] = torch.get_num_threads()
    for _ in range(args.repeats):  # interleaved: drifts hit both alike
        for name, chunk in (('chunked', args.chunk), ('dense', 0)):
            argv = [sys.executable, __file__, '--one', '--chunk',
                    str(chunk)] + [f'--{k}={getattr(args, k)}' for k in (
                        'anchors', 'candidates', 'channels', 'device')]
            out = subprocess.run(argv, check=True, capture_output=True,
                                 text=True).stdout
            result.setdefault(name, {}).setdefault('runs', []).append(
                json.loads(out.strip().splitlines()[-1]))
    for name in ('chunked', 'dense'):
        runs = result[name]['runs']
        for key in ('seconds', 'peak_bytes'):
            result[name][key] = statistics.median(r[key] for r in runs)
        result[name]['loss'] = runs[0]['loss']
    result['memory_ratio'] = (result['chunked']['peak_bytes'] /
                              result['dense']['peak_bytes'])
    result['time_ratio'] = (result['chunked']['seconds'] /
                            result['dense']['seconds'])
    result['same_loss'] = abs(result['chunked']['loss'] -
                              result['dense']['loss']) < 1e-4
    write_result(result, args.out)


if __name__ == '__main__':
    main()
