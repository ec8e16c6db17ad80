"""Checkpoints that survive a kill at any moment.

mmengine 0.10.7's ``CheckpointHook`` removes the oldest checkpoint (when
``max_keep_ckpts`` is set) before it writes the new one, and writes the new
one in place: a kill during the save leaves no complete checkpoint and
``last_checkpoint`` pointing at a deleted file. This hook writes the new
checkpoint under a temporary name, renames it into place, then points
``last_checkpoint`` at it, and only then removes the outdated ones.
"""
from __future__ import annotations

import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

from mmssl_seg.utils.io import FILE_MODE, atomic_path


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose checkpoints are complete or absent, and whose
    ``last_checkpoint`` always names a complete file. Same arguments.

    Registered in MMSeg's scope under its own name only: importing the
    plugin leaves the stock hook as it is. Our tools put it in place of a
    config's ``CheckpointHook`` (:func:`~mmssl_seg.engine.runner.load_config`);
    elsewhere name it in ``default_hooks.checkpoint.type``. Remote backends
    keep mmengine's behaviour.
    """

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        filename = self.filename_tmpl.format(step)
        final = osp.join(self.out_dir, filename)
        partial = f'.{filename}.partial'
        outdated = []
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        self.last_ckpt = final
        runner.message_hub.update_info('last_ckpt', final)
        runner.save_checkpoint(
            self.out_dir, partial, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        tmp = osp.join(self.out_dir, partial)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, final)  # complete, then visible
        with atomic_path(osp.join(runner.work_dir, 'last_checkpoint')) as t:
            with open(t, 'w') as f:
                f.write(final)
        for old in outdated:  # only now that the new one is complete
            path = osp.join(self.out_dir, self.filename_tmpl.format(old))
            if osp.isfile(path):
                os.remove(path)
