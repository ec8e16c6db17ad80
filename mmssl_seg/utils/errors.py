"""Errors a user fixes from the message alone, and how tools show them: one
line, no traceback."""
from __future__ import annotations

import contextlib
from typing import Iterator


class UserError(Exception):
    """Something wrong with what a user gave (a file, a checkpoint, a data
    folder, a parameter), said completely by the message. Tools print it as
    one line and exit with status 1 (:func:`one_line_errors`)."""


class ArgumentError(UserError, ValueError):
    """A value a user gave that cannot work (found after the command line
    was parsed, before anything is written)."""


class ParameterMismatchError(UserError, ValueError):
    """An output folder holds results made with other parameters: a rerun
    would mix them."""


class DegeneratePriorError(UserError, RuntimeError):
    """A prior tool's own output is unusable (e.g. every pixel ignored, no
    image listed): the run ends in an error instead of training on it."""


#: Besides :class:`UserError`: a path that does not exist or cannot be read.
_PATH_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError,
                PermissionError)


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn :class:`UserError` and missing-path errors raised in the block
    into ``SystemExit('error: ...')`` (printed on stderr, status 1)."""
    try:
        yield
    except (UserError, *_PATH_ERRORS) as error:
        raise SystemExit(f'error: {error}') from None
