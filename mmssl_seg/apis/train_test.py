"""Training and testing: what ``tools/train.py`` and ``tools/test.py`` do,
callable from Python (and tests); the pieces they share with the evaluation
protocols live in :mod:`mmssl_seg.engine.runner`.

They behave like MMSeg 1.x's own tools; the differences are that the stack
shims are installed before the config is read, that no checkpoint runs code
it names (only the one ``--resume`` continues from is fully unpickled) and
that :func:`test` refuses weights that do not fit the model.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os.path as osp
from collections.abc import Iterator
from typing import Sequence

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

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
    # a resumed run takes its weights from its checkpoint, not the inits
    check_data(cfg, ('train', 'val') if validates else ('train', ),
               inits=not resume)
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
         allow_missing: Sequence[str] = ()) -> dict:
    """Evaluate ``checkpoint`` with the config's test loop and evaluator.

    The checkpoint's tensors are read without running code it names (any
    file: tensors-only, or a full training checkpoint), and they must fit
    the config's model: a key of another shape, or a weight the file leaves
    at random init, stops the test with one error naming the keys, as in
    the evaluation tools (:meth:`QuietStartRunner.load_evaluated_weights`).

    Args:
        cfg: A loaded config.
        checkpoint: The weights to evaluate.
        out: Folder to write the predicted label maps into.
        show_dir: Folder (under the work_dir) for painted predictions.
        tta: Use the config's test-time augmentation.
        allow_missing: Regexes of model keys the checkpoint may leave at
            random init.
    """
    check_data(cfg, ('test', ))
    cfg.load_from = None  # loaded below, checked
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
    runner.load_evaluated_weights(checkpoint, allow_missing)
    return runner.test()


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
