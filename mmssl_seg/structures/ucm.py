"""The ultrametric contour map of a whole hierarchy on BSDS's ``ucm2`` grid
(``(2H + 1) x (2W + 1)``, boundaries at odd coordinates), as a 16-bit PNG
(ours) or the BSDS code's ``.mat``."""
from __future__ import annotations

import cv2
import numpy as np

from mmssl_seg.utils.io import atomic_path

#: Full scale of the 16-bit PNG.
UCM_SCALE = 65535


def write_ucm2(path: str, ucm2: np.ndarray) -> None:
    """Write a ``ucm2`` in [0, 1] as a 16-bit PNG, atomically."""
    with atomic_path(path) as tmp:
        scaled = np.round(np.clip(ucm2, 0, 1) * UCM_SCALE)
        if not cv2.imwrite(tmp, scaled.astype(np.uint16)):
            raise OSError(f'could not write {path}')


def read_ucm2(path: str) -> np.ndarray:
    """A ``ucm2`` written by :func:`write_ucm2` (``.png``) or by the BSDS code
    (``.mat`` with a ``ucm2`` array), as float in [0, 1]."""
    if path.endswith('.mat'):
        from scipy.io import loadmat
        return loadmat(path)['ucm2'].astype(np.float32)
    ucm = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if ucm is None:
        raise FileNotFoundError(f'UCM missing: {path}')
    return ucm.astype(np.float32) / UCM_SCALE
