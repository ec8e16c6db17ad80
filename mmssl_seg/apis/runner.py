"""Training and testing: what ``tools/train.py`` and ``tools/test.py`` do,
callable from Python (and tests); the pieces they share with the evaluation
protocols live in :mod:`mmssl_seg.engine.runner`.

They behave like MMSeg 1.x's own tools; the differences are that the stack
shims are installed before the config is read (``mmssl_seg`` is imported by
this module) and that checkpoints load with ``weights_only=True`` unless they
lie in the run's own ``work_dir``.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import os.path as osp
from collections.abc import Iterator

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmssl_seg import compat
from mmssl_seg.datasets.checks import check_data
from mmssl_seg.engine.runner import (
    add_run_checks,
    build_runner,
    enable_amp,
    resume_checkpoint,
)


def train(cfg: Config, resume: bool = False, amp: bool = False) -> Runner:
    """Train from a loaded config; ``resume`` continues from the newest
    complete checkpoint in ``cfg.work_dir`` (:func:`resume_checkpoint`) or
    from ``cfg.load_from``. Missing data folders stop it before anything is
    built (:func:`check_data`, a ``DataNotFoundError``); pretrained inits and
    prior files are checked before the first iteration
    (:func:`add_run_checks`)."""
    validates = cfg.get('val_cfg') and cfg.get('val_dataloader')
    check_data(cfg, ('train', 'val') if validates else ('train', ))
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
    check_data(cfg, ('test', ))
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


@contextlib.contextmanager
def process_group_closed() -> Iterator[None]:
    """After a finished ``--launcher`` run, destroy its process group and
    collect the runner (its DDP model holds the group) while the interpreter
    is alive: a gloo group torn down during interpreter finalization aborts
    the process now and then ("terminate called without an active
    exception"). Not after an exception: a failed rank exits at once rather
    than wait on ranks that may be inside a collective."""
    yield
    import torch.distributed as torch_dist
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.destroy_process_group()
        gc.collect()  # the runner lives in reference cycles


def parse_common_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse; export ``LOCAL_RANK`` (``torch.distributed.launch`` passes
    ``--local-rank``, torchrun sets the variable; mmengine reads it)."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args
