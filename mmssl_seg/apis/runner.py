"""Config loading, training and testing: what ``tools/train.py`` and
``tools/test.py`` do, callable from Python (and tests).

They behave like MMSeg 1.x's own tools; the differences are that the stack
shims are installed before the config is read (``mmssl_seg`` is imported by
this module) and that checkpoints load with ``weights_only=True`` unless they
lie in the run's own ``work_dir``.
"""
from __future__ import annotations

import argparse
import logging
import os
import os.path as osp
from typing import Any, Sequence

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmssl_seg import compat


def load_config(config: str,
                work_dir: str | None = None,
                cfg_options: dict[str, Any] | None = None,
                launcher: str = 'none') -> Config:
    """Read a config the way MMSeg's tools do.

    Args:
        config: Path of the config file.
        work_dir: Overrides ``cfg.work_dir``; default
            ``./work_dirs/<config name>``, as in MMSeg.
        cfg_options: ``--cfg-options`` merged into the config.
        launcher: ``none``, ``pytorch``, ``slurm`` or ``mpi``.
    """
    compat.install()
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg


def pretrained_init(checkpoint: str,
                    parts: tuple[str, ...] = ('backbone', )) -> dict:
    """``cfg_options`` that initialise ``parts`` of a stock model from a
    tensors-only checkpoint of ``extract_pretrained.py``, the MMSelfSup way:
    ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
    """
    return {
        f'model.{part}.init_cfg': dict(
            type='Pretrained', checkpoint=checkpoint, prefix=f'{part}.')
        for part in parts
    }


def rescale_schedule(cfg: Config, max_iters: int,
                     keep: Sequence[str] = ()) -> Config:
    """Run an iteration-based config for ``max_iters`` iterations with the
    same shape of schedule: every scheduler's ``begin`` / ``end`` /
    ``milestones`` / ``T_max``, the validation, checkpoint and logging
    intervals scale by ``max_iters / cfg.train_cfg.max_iters``, except the
    values a user set explicitly (``keep``: the ``--cfg-options`` keys, e.g.
    ``default_hooks.checkpoint.interval``; a ``param_scheduler`` key keeps
    every scheduler).

    Used to give methods with different costs per iteration the same
    wall-clock budget (``tools/benchmark.py``) and by ``tools/train.py
    --max-iters``. Epoch-based schedules are refused.
    """
    loop = cfg.train_cfg
    if 'max_iters' not in loop:
        raise ValueError('rescale_schedule needs an iteration-based '
                         f'train_cfg, got {dict(loop)}')
    if max_iters < 1:
        raise ValueError(f'max_iters must be >= 1, got {max_iters}')
    old = loop.max_iters
    factor = max_iters / old

    def scale(value: int) -> int:
        return min(max_iters, max(1, round(value * factor)))

    keep = set(keep)
    if 'val_interval' in loop and 'train_cfg.val_interval' not in keep:
        loop.val_interval = scale(loop.val_interval)
    loop.max_iters = max_iters
    schedulers = [] if any(k.startswith('param_scheduler') for k in keep) \
        else cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for sched in schedulers:
        if sched.get('by_epoch', True):
            raise ValueError('rescale_schedule handles by_epoch=False '
                             f'schedulers only, got {dict(sched)}')
        for key in ('end', 'T_max'):
            if key in sched:
                sched[key] = scale(sched[key])
        if 'begin' in sched:
            sched['begin'] = round(sched['begin'] * factor)
        if 'milestones' in sched:
            sched['milestones'] = [scale(m) for m in sched['milestones']]
    hooks = cfg.get('default_hooks', {})
    for name in ('checkpoint', 'logger'):
        if name in hooks and 'interval' in hooks[name] and \
                f'default_hooks.{name}.interval' not in keep:
            hooks[name].interval = scale(hooks[name].interval)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """The registered runner named by ``runner_type``, else
    :class:`~mmssl_seg.engine.runner.QuietStartRunner` (the console keeps
    what a user reads; the dumps go to the log file)."""
    if 'runner_type' not in cfg:
        from mmssl_seg.engine.runner import QuietStartRunner
        return QuietStartRunner.from_cfg(cfg)
    from mmseg.registry import RUNNERS
    return RUNNERS.build(cfg)


def enable_amp(cfg: Config) -> None:
    """Switch ``OptimWrapper`` to ``AmpOptimWrapper`` (MMSeg's ``--amp``)."""
    if cfg.optim_wrapper.type == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in your config.',
                  logger='current', level=logging.WARNING)
        return
    if cfg.optim_wrapper.type != 'OptimWrapper':
        raise ValueError('`--amp` is only supported when the optimizer wrapper'
                         ' type is `OptimWrapper`, got '
                         f'{cfg.optim_wrapper.type}.')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


#: Checks every run of ours makes before its first iteration.
RUN_CHECKS = ('PretrainedInitCheckHook', 'PriorFilesCheckHook')


def add_run_checks(cfg: Config) -> None:
    """Add the :data:`RUN_CHECKS` hooks to ``custom_hooks`` unless the
    config lists them: a ``Pretrained`` init that would leave weights at
    random, and missing or bad prior files, stop the run at its start."""
    hooks = list(cfg.get('custom_hooks', None) or [])
    scoped = cfg.get('default_scope', 'mmseg') == 'mmseg'
    for name in RUN_CHECKS:
        if not any(str(h.get('type')).split('.')[-1] == name for h in hooks):
            hooks.append(dict(type=name if scoped else f'mmseg.{name}'))
    cfg.custom_hooks = hooks


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a whole torch checkpoint (a zip archive with its
    central directory; a file cut short by a kill has none)."""
    import zipfile
    try:
        with zipfile.ZipFile(path):
            return True
    except (OSError, zipfile.BadZipFile):
        return False


def resume_checkpoint(work_dir: str) -> str | None:
    """What ``--resume`` continues from: the checkpoint ``last_checkpoint``
    names when it is complete, else the newest complete ``iter_*`` /
    ``epoch_*`` checkpoint of ``work_dir`` (said in the log), else None."""
    import glob
    import re
    named = None
    marker = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker) as f:
            named = f.read().strip()
        if named and is_complete_checkpoint(named):
            return named
    found = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        m = re.fullmatch(r'(iter|epoch)_(\d+)\.pth', osp.basename(path))
        if m and is_complete_checkpoint(path):
            found.append((int(m.group(2)), path))
    if not found:
        return None
    newest = max(found)[1]
    if named:
        print_log(f'last_checkpoint names {named}, which is missing or '
                  f'incomplete; resuming from {newest}, the newest complete '
                  'checkpoint', logger='current', level=logging.WARNING)
    return newest


def train(cfg: Config, resume: bool = False, amp: bool = False) -> Runner:
    """Train from a loaded config; ``resume`` continues from the newest
    complete checkpoint in ``cfg.work_dir`` (:func:`resume_checkpoint`) or
    from ``cfg.load_from``. Pretrained inits and prior files are checked
    before the first iteration (:func:`add_run_checks`)."""
    add_run_checks(cfg)
    if resume and cfg.get('load_from') is None:
        cfg.load_from = resume_checkpoint(cfg.work_dir)
        if cfg.load_from is None:  # nothing complete: start, as mmengine
            print_log(f'no complete checkpoint in {cfg.work_dir}; training '
                      'from the start', logger='current',
                      level=logging.WARNING)
            resume = False
    if amp:
        enable_amp(cfg)
    cfg.resume = resume
    runner = build_runner(cfg)
    runner.train()
    return runner


def test(cfg: Config,
         checkpoint: str,
         out: str | None = None,
         show_dir: str | None = None,
         tta: bool = False,
         trust_checkpoint: bool = False) -> dict:
    """Evaluate ``checkpoint`` with the config's test loop and evaluator.

    Args:
        cfg: A loaded config.
        checkpoint: A tensors-only file, or a training checkpoint of this
            config's own ``work_dir`` (full checkpoints elsewhere are refused
            unless ``trust_checkpoint``).
        out: Folder to write the predicted label maps into.
        show_dir: Folder (under the work_dir) for painted predictions.
        tta: Use the config's test-time augmentation.
        trust_checkpoint: Load ``checkpoint`` with full unpickling. Only for
            files you produced yourself.
    """
    cfg.load_from = checkpoint
    if show_dir is not None:
        hooks = cfg.default_hooks
        if 'visualization' not in hooks:
            raise KeyError('`show_dir` needs a `visualization` hook '
                           '(SegVisualizationHook) in default_hooks.')
        hooks.visualization.update(draw=True, show=False)
        cfg.visualizer.save_dir = osp.join(cfg.work_dir, show_dir)
    if out is not None:
        cfg.test_evaluator['output_dir'] = out
        cfg.test_evaluator['keep_results'] = True
    if tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    runner = build_runner(cfg)
    if not trust_checkpoint:
        return runner.test()
    with compat.trusted_checkpoint_dir(osp.dirname(osp.abspath(checkpoint))):
        return runner.test()


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """The options ``tools/train.py`` and ``tools/test.py`` share with MMSeg's
    tools: ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``.
    """
    from mmengine.config import DictAction
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, as key=value pairs')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_common_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse; export ``LOCAL_RANK`` (``torch.distributed.launch`` passes
    ``--local-rank``, torchrun sets the variable; mmengine reads it)."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args
