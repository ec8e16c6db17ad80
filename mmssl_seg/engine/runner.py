"""Running a config as MMSeg's tools do: config loading, schedule scaling,
the runner (whose console shows what a user reads; the dumps go to the log
file; which fully unpickles only the checkpoint ``--resume`` continues
from), the checks before the first iteration and resuming from the newest
complete checkpoint."""
from __future__ import annotations

import logging
import os.path as osp
import re
from typing import Any, Sequence

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from mmssl_seg import compat
from mmssl_seg.utils.errors import ArgumentError

#: How the start-of-run dumps of mmengine's Runner begin.
DUMPS = ('\n' + '-' * 60 + '\nSystem environment:', 'Config:\n',
         'Hooks will be executed in the following order:')


class _DumpsToFileOnly(logging.Filter):
    """Drops the start-of-run dumps from a console handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(DUMPS)


@RUNNERS.register_module()
class QuietStartRunner(Runner):
    """mmengine's ``Runner`` whose console leaves out the environment, the
    config and the hook order (a few hundred lines before the first
    iteration); they are kept in the run's log file, whose path the console
    names once. ``tools/train.py`` and ``tools/test.py`` use it.

    Checkpoints load with ``weights_only=True`` (torch >= 2.6), except the one
    :meth:`resume` continues from: resuming is asked for explicitly
    (``--resume``) and needs the optimizer state and message hub, which only
    full unpickling restores. No other file, in the work_dir or elsewhere,
    runs code it names.
    """

    _resuming: str | None = None

    def resume(self, filename: str, *args, **kwargs) -> None:
        self._resuming = osp.realpath(filename)
        try:
            return super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = None

    def load_checkpoint(self, filename: str, map_location='cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module\.', '')]) -> dict:
        """mmengine's ``load_checkpoint`` with the trust rule above
        (:func:`~mmssl_seg.checkpoint.io.read_runner_checkpoint`)."""
        from mmengine.model import is_model_wrapper
        from mmengine.runner.checkpoint import _load_checkpoint_to_model

        from mmssl_seg.checkpoint.io import read_runner_checkpoint
        checkpoint = read_runner_checkpoint(
            filename, map_location, resuming=bool(
                self._resuming
                and osp.realpath(filename) == self._resuming))
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict,
                                               revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def load_evaluated_weights(self, checkpoint: str,
                               allow_missing: Sequence[str] = ()) -> None:
        """Load the weights a test evaluates: the file's tensors are read
        without running code it names (tensors-only or a full training
        checkpoint alike), and every weight of the model must come from it
        with its shape (:func:`~mmssl_seg.checkpoint.loading.load_weights`;
        ``allow_missing``: regexes of keys that may stay at random init)."""
        from mmengine.model import BaseTTAModel, is_model_wrapper

        from mmssl_seg.checkpoint.loading import load_weights
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        if isinstance(model, BaseTTAModel):
            model = model.module
        parts = [n for n, _ in model.named_children()
                 if n != 'data_preprocessor']
        load_weights(model, checkpoint, parts, new_layers=(),
                     allow_missing=allow_missing)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {checkpoint}')

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            if not isinstance(handler, logging.FileHandler) and not any(
                    isinstance(f, _DumpsToFileOnly) for f in handler.filters):
                handler.addFilter(_DumpsToFileOnly())
        files = [h.baseFilename for h in logger.handlers
                 if isinstance(h, logging.FileHandler)]
        if files:
            logger.info(f'environment, config and hooks: {files[0]}')
        return logger

    def train(self):
        try:
            return super().train()
        finally:
            self.release_dataloader_workers()

    def val(self):
        try:
            return super().val()
        finally:
            self.release_dataloader_workers()

    def test(self):
        try:
            return super().test()
        finally:
            self.release_dataloader_workers()

    def release_dataloader_workers(self) -> None:
        """Stop the persistent worker processes of every loop's dataloader.

        Left to the garbage collector, they are stopped whenever a later
        collection finds the runner, in an order that can close a worker's
        index queue before the stop message is sent: each worker's join then
        waits out its 5 s timeout (measured: 20 s per finished run when the
        demo trains several runs in one process).
        """
        for name in ('_train_loop', '_val_loop', '_test_loop'):
            loop = getattr(self, name, None)
            loader = getattr(loop, 'dataloader', None)
            iterator = getattr(loader, '_iterator', None)
            if iterator is not None and hasattr(iterator, '_shutdown_workers'):
                iterator._shutdown_workers()
                loader._iterator = None


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
    compat.install_runtime()
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    use_atomic_checkpoints(cfg)
    return cfg


def use_atomic_checkpoints(cfg: Config) -> None:
    """Save with :class:`~mmssl_seg.engine.hooks.AtomicCheckpointHook`
    where the config names mmengine's ``CheckpointHook`` (same arguments):
    a kill while saving then keeps the last complete checkpoint."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if hook and str(hook.get('type')).split('.')[-1] == 'CheckpointHook':
        scoped = cfg.get('default_scope', 'mmseg') == 'mmseg'
        hook['type'] = 'AtomicCheckpointHook' if scoped else \
            'mmseg.AtomicCheckpointHook'


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
        raise ArgumentError('--max-iters needs an iteration-based '
                            f'train_cfg, got {dict(loop)}')
    if max_iters < 1:
        raise ArgumentError(f'max_iters must be >= 1, got {max_iters}')
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
    visualizer = cfg.get('visualizer')
    if visualizer and visualizer.get('name') == 'visualizer':
        # MMSeg's default_runtime names every run's visualizer alike, so a
        # second run in one process reused the first one's (and its folder,
        # perhaps removed since): without the name each run gets its own
        visualizer.pop('name')
    if 'runner_type' not in cfg:
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


def enable_tensorboard(cfg: Config) -> None:
    """Add mmengine's ``TensorboardVisBackend`` next to the config's backends
    (scalars go to ``<work_dir>/<timestamp>/vis_data``)."""
    try:
        import tensorboard  # noqa: F401
    except ImportError as error:
        raise ImportError('--tensorboard needs the tensorboard package: '
                          'pip install tensorboard') from error
    visualizer = cfg.get('visualizer')
    if visualizer is None:
        raise KeyError('--tensorboard needs a `visualizer` in the config '
                       "(MMSeg's default_runtime.py has one)")
    backends = list(visualizer.get('vis_backends') or [])
    if not any(str(b.get('type')).endswith('TensorboardVisBackend')
               for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    visualizer.vis_backends = backends


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
