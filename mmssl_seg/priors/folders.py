"""Prior folders as the control tools read and write them: which files a
``make_*.py`` folder holds per image, how to list, read and resize them,
and the list files a config reads beside them. Shared by the negative
(:mod:`mmssl_seg.priors.shuffle`) and oracle (:mod:`mmssl_seg.priors.oracle`)
controls, which write a folder of the same layout as their source."""
from __future__ import annotations

import glob
import json
import os.path as osp
import shutil
from typing import Sequence

import cv2
import numpy as np

from mmssl_seg.structures import LAYOUT, RegionTree, prior_path
from mmssl_seg.utils.errors import ArgumentError
from mmssl_seg.utils.io import atomic_path

#: The per-image files each prior tool's training loaders read.
KINDS = {
    'make_saliency': ('saliency_mask', ),
    'make_aux_labels': ('aux_labels', 'superpixels'),
    'make_hierarchies': ('region_tree', ),
}
#: A plain folder of ``<stem>.png`` label maps (no ``params.json``).
LABEL_MAPS = 'label_maps'


def resize_nearest(value: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a map (any dtype) to ``shape``: output
    pixel ``i`` takes source pixel ``floor((i + 0.5) * H / h)``."""
    rows = ((np.arange(shape[0]) + 0.5) * value.shape[0] /
            shape[0]).astype(np.int64)
    cols = ((np.arange(shape[1]) + 0.5) * value.shape[1] /
            shape[1]).astype(np.int64)
    return value[rows[:, None], cols[None, :]]


def source_kinds(src: str) -> tuple[str, tuple[str, ...], dict]:
    """(tool, kinds, its params record) of a prior folder, or the plain
    label-map mode."""
    params = osp.join(src, 'params.json')
    if not osp.isfile(params):
        return LABEL_MAPS, (LABEL_MAPS, ), {}
    with open(params) as f:
        record = json.load(f)
    tool = record.get('tool')
    if tool not in KINDS:
        raise ArgumentError(f'{src} was written by {tool!r}; the control '
                            f'tools take folders of {sorted(KINDS)} or a '
                            'plain folder of <stem>.png label maps')
    return tool, KINDS[tool], record


def prior_file(root: str, kind: str, stem: str) -> str:
    if kind == LABEL_MAPS:
        return osp.join(root, f'{stem}.png')
    return prior_path(root, kind, stem)


def prior_stems(src: str, kinds: Sequence[str]) -> list[str]:
    """The images that have every kind of file in ``src``."""
    found = None
    for kind in kinds:
        pattern = (osp.join(src, '*.png') if kind == LABEL_MAPS else
                   osp.join(src, LAYOUT[kind].format(stem='*')))
        stems = {osp.splitext(osp.basename(p))[0]
                 for p in glob.glob(pattern)}
        found = stems if found is None else found & stems
    return sorted(found or ())


def select_stems(src: str, kinds: Sequence[str],
                 ids: str | None = None) -> list[str]:
    """The images of ``src`` to process: all that have every kind of file,
    or those named in the file ``ids`` (each must have them). None is an
    error naming the folder."""
    stems = prior_stems(src, kinds)
    if ids is not None:
        with open(ids) as f:
            wanted = f.read().split()
        missing = sorted(set(wanted) - set(stems))
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} image(s) of {ids} have no prior files of '
                f'{list(kinds)} in {src}: {missing[:5]}')
        stems = sorted(set(wanted))
    if not stems:
        raise FileNotFoundError(f'no prior files of {list(kinds)} in {src}')
    return stems


def copy_list_files(src: str, dst: str) -> None:
    """Copy the list files of ``src`` (``ids.txt``, ``kept_*.txt``: what
    configs read as ``ann_file``) to ``dst`` unless already there."""
    for path in glob.glob(osp.join(src, '*.txt')):
        target = osp.join(dst, osp.basename(path))
        if not osp.isfile(target):
            with atomic_path(target) as tmp:
                shutil.copyfile(path, tmp)


def read_prior(path: str, kind: str):
    if kind == 'region_tree':
        return RegionTree.load(path)
    if kind == LABEL_MAPS:  # palette PNGs (VOC) hold indices: read as MMSeg
        from PIL import Image
        try:
            with Image.open(path) as image:
                return np.array(image)
        except (FileNotFoundError, OSError):
            raise FileNotFoundError(
                f'label map missing or unreadable: {path}') from None
    value = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if value is None:
        raise FileNotFoundError(f'prior file missing or unreadable: {path}')
    return value


def map_shape(value) -> tuple[int, int]:
    return tuple((value.leaves if isinstance(value, RegionTree)
                  else value).shape[:2])
