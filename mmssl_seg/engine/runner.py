"""A Runner whose console shows what a user reads at the start of a run;
the long dumps (environment, config, hook order) go to the log file only."""
from __future__ import annotations

import logging

from mmengine.runner import Runner
from mmseg.registry import RUNNERS


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
    names once. ``tools/train.py`` and ``tools/test.py`` use it."""

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
