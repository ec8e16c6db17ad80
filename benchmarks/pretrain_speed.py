"""Seconds per pretraining iteration of each method's mini config on this
machine: what ``benchmarks/suite/suite.py`` turns a wall-clock budget into
iterations with (``SECONDS_PER_ITER``, measured on 2 idle CPU cores).

    python benchmarks/pretrain_speed.py
        [--suite voc12_mini|mosaic|camvid|horses]
        [--iters 12] [--skip 2] [--priors work_dirs/benchmark/SUITE/priors]
        [--only mask_contrast supervised_resnet18 ...]
        [--out benchmarks/results/pretrain_speed.json]

Each config of the suite's regime (``REGIMES``; the mosaic regime reads
its mosaics and the horses regime its photographs where the suite built
them) trains ``--iters`` iterations from random init on the suite's priors
(saliency masks, auxiliary labels, region trees; a config that declares a
pretrained start drops it: a step costs the same), the positive controls
(``supervised_<arch>``: the evaluation segmentors) on the train labels; the
median time of the iterations after the first ``--skip`` is reported.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile

from common import REPO

from benchmarks.suite.suite import REGIMES, SuiteOptions
from mmssl_seg.utils.io import write_json


def seconds_per_iter(config: str, env: dict, iters: int, skip: int,
                     options: tuple[str, ...] = ()) -> float:
    work = tempfile.mkdtemp(prefix='speed_')
    subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir', work,
         '--max-iters', str(iters), '--cfg-options',
         'default_hooks.logger.interval=1', *options],
        cwd=REPO, env=dict(os.environ, **env), check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    scalars = [p for p in (osp.join(r, f) for r, _, fs in os.walk(work)
                           for f in fs) if p.endswith('scalars.json')]
    with open(scalars[0]) as f:
        times = [json.loads(line)['time'] for line in f if '"time"' in line]
    return statistics.median(times[skip:])


def drop_declared_start(config: str) -> tuple[str, ...]:
    """Options that train a config which declares a pretrained backbone
    (MaskContrast from MoCo v2) from random init: a step costs the same."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    init = cfg.get('model', {}).get('backbone', {}).get('init_cfg')
    return ('model.backbone.init_cfg=None', ) if init else ()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--iters', type=int, default=12)
    parser.add_argument('--skip', type=int, default=2)
    parser.add_argument('--suite', choices=sorted(REGIMES),
                        default='voc12_mini')
    parser.add_argument('--priors',
                        help='default: work_dirs/benchmark/SUITE/priors')
    parser.add_argument('--only', nargs='+', help='these configs only')
    parser.add_argument('--out',
                        default='benchmarks/results/pretrain_speed.json')
    args = parser.parse_args()
    opts = SuiteOptions(suite=args.suite)
    priors = osp.join(REPO, args.priors or f'{opts.work_dir}/priors')
    data = ({'MOSAIC_ROOT': osp.join(REPO, opts.mosaic_root)}
            if args.suite == 'mosaic' else
            {'HORSE_ROOT': osp.join(REPO, opts.horse_root)}
            if args.suite == 'horses' else {})
    envs = {
        'mask_contrast': {'SALIENCY_DIR': f'{priors}/saliency'},
        'aux_contrast': {'AUX_LABELS': f'{priors}/aux_labels'},
        'hier_grouping': {'HIERARCHY_DIR': f'{priors}/hierarchies'},
        'mix_match': {},
    }
    regime = opts.regime
    configs = dict(regime.pretrain_configs, **{
        f'supervised_{arch}': config
        for arch, config in regime.eval_configs.items()})
    result = {}
    for method, config in configs.items():
        if args.only and method not in args.only:
            continue
        result[method] = round(
            seconds_per_iter(config, {**data, **envs.get(method, {})},
                             args.iters, args.skip,
                             drop_declared_start(config)), 2)
        print(f'{method}: {result[method]:.2f} s/iteration', flush=True)
    write_json(osp.join(REPO, args.out), {
        'suite': args.suite, 'seconds_per_iter': result,
        'iters': args.iters, 'skip': args.skip, 'cpus': os.cpu_count()})


if __name__ == '__main__':
    main()
