"""Where the offline priors live and how their files are read: one place for
the folder layouts that the prior tools write and the ``Load*`` transforms
read.

A prior folder (the ``OUT_DIR`` of a tool in ``tools/priors/``) holds one
file per image, found by the image's file stem:

================  ==============================  ========================
prior             file                            written by
================  ==============================  ========================
saliency mask     ``masks/<stem>.png`` (0/255)    ``make_saliency.py``
soft saliency     ``soft/<stem>.png`` (0..255)    ``make_saliency.py``
auxiliary labels  ``labels/<stem>.png`` (uint8)   ``make_aux_labels.py``
superpixels       ``superpixels/<stem>.png`` (16b) ``make_aux_labels.py``
region tree       ``trees/<stem>.npz``            ``make_hierarchies.py``
whole UCM         ``ucm2/<stem>.png`` (16 bit)    ``make_hierarchies.py``
thinned edges     ``edges/<stem>.png`` (16 bit)   ``make_hierarchies.py``
================  ==============================  ========================
"""
from __future__ import annotations

import os.path as osp

import cv2
import numpy as np

#: The layout of every kind of prior file.
LAYOUT = {
    'saliency_mask': 'masks/{stem}.png',
    'soft_saliency': 'soft/{stem}.png',
    'aux_labels': 'labels/{stem}.png',
    'superpixels': 'superpixels/{stem}.png',
    'region_tree': 'trees/{stem}.npz',
    'ucm2': 'ucm2/{stem}.png',
    'edges': 'edges/{stem}.png',
}


def stem_of(path: str) -> str:
    """The file stem by which an image's priors are found."""
    return osp.splitext(osp.basename(path))[0]


def prior_path(root: str, kind: str, image: str) -> str:
    """The ``kind`` file of ``image`` (its path or stem) in the prior folder
    ``root``."""
    return osp.join(root, LAYOUT[kind].format(stem=stem_of(image)))


def read_prior_map(path: str, shape: tuple[int, int] | None,
                   image: str = '', what: str = 'prior map',
                   flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    """Read one prior image file; a missing or unreadable file, or one of
    another size than ``shape`` (its image's), is an error naming both.

    Raises:
        FileNotFoundError: Missing or unreadable.
        ValueError: Of another size.
    """
    value = cv2.imread(path, flags)
    for_image = f' (for {image})' if image else ''
    if value is None:
        raise FileNotFoundError(f'{what} missing or unreadable: {path}'
                                f'{for_image}')
    if shape is not None and value.shape[:2] != tuple(shape):
        raise ValueError(f'{what} {path} is {value.shape[:2]}, its image '
                         f'{image} is {tuple(shape)}')
    return value
