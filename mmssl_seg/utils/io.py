"""File writing that never leaves a half-written output behind."""
from __future__ import annotations

import contextlib
import json
import os
import os.path as osp
import tempfile
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path next to ``path``; move it into place on success.

    The temporary file keeps the final name's suffix (writers such as
    ``cv2.imwrite`` pick the format from it). On an exception nothing is left
    at ``path`` and the temporary file is removed.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = osp.splitext(path)[1]
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix=f'.tmp{suffix}', dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_json(path: str, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, 'w') as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write('\n')
