"""File writing that never leaves a half-written output behind, and image
reading that says what is wrong with a file."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import os.path as osp
import tempfile
from typing import Any, Iterator

import numpy as np

from mmssl_seg.utils.errors import ParameterMismatchError, UserError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Mode of the files we write: what ``open`` would give (0644 under 022);
#: ``mkstemp`` alone makes them 0600.
FILE_MODE = 0o666 & ~_umask()


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
        os.chmod(tmp, FILE_MODE)
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


def claim_folder(path: str, record: Any) -> Any:
    """Claim the folder of ``path`` for outputs that ``record`` (what
    determines them: a tool and its parameters) makes: write ``record``
    there before any output, or read the one a run before wrote and refuse
    another (a rerun with other parameters would mix outputs). Returns the
    record as stored."""
    record = json.loads(json.dumps(record))
    if not osp.isfile(path):
        write_json(path, record)
        return record
    with open(path) as f:
        old = json.load(f)
    if old != record:
        raise ParameterMismatchError(
            f'{osp.dirname(path) or "."} holds outputs made with other '
            f'parameters ({path}: {old}); use another folder or delete it')
    return old


def sha256_of(path: str) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


class ImageReadError(UserError, OSError):
    """An image file that is missing, not an image, or truncated."""


def read_image(path: str) -> np.ndarray:
    """A BGR uint8 image; :class:`ImageReadError` names the file and says
    whether it is missing, not an image or a truncated JPEG."""
    import cv2
    if not osp.isfile(path):
        raise ImageReadError(f'image missing: {path}')
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ImageReadError(f'not a readable image: {path}')
    if path.lower().endswith(('.jpg', '.jpeg')):
        with open(path, 'rb') as f:
            f.seek(max(0, osp.getsize(path) - 64))
            if b'\xff\xd9' not in f.read():  # no end-of-image marker
                raise ImageReadError(f'truncated JPEG: {path}')
    return image
