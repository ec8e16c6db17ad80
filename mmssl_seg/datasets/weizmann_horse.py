"""Weizmann Horse (Borenstein and Ullman, ECCV 2002): 228 side-view horse
photographs with figure/ground masks. Each has one salient object, which is
MaskContrast's setting, small enough for 2 CPU cores.

The source (``rgb/<id>.jpg``, ``figure_ground/<id>.jpg``) stores the masks as
JPEG, some at another size than their photograph (same aspect ratio).
:func:`build_weizmann_horses` writes MMSeg's layout with class-index PNGs:
the mask resized to its photograph with nearest neighbour, then thresholded
at 128 (0 background, 1 horse; nearest neighbour with pixel centres
aligned, as PIL's: OpenCV's plain ``INTER_NEAREST`` shifts the masks by half
a pixel, 260 000 pixels over the data set), and the fixed split listed in
``splits/weizmann_horse_{train,val}.txt`` (180 / 48: ``numpy``'s
``default_rng(0)`` permutation of the sorted ids, its first 48 for val).
"""
from __future__ import annotations

import os.path as osp
import shutil

import cv2
import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from rich.progress import track

from mmssl_seg.utils.errors import UserError
from mmssl_seg.utils.io import (
    ImageReadError,
    atomic_path,
    claim_folder,
    read_image,
)

SPLITS = ('train', 'val')
THRESHOLD = 128  # the JPEG masks' grey levels: >= 128 is the horse


def split_file(split: str) -> str:
    """The packaged id list of ``split`` ('train' or 'val')."""
    return osp.join(osp.dirname(__file__), 'splits',
                    f'weizmann_horse_{split}.txt')


def read_split(split: str) -> list[str]:
    with open(split_file(split)) as f:
        return f.read().split()


@DATASETS.register_module()
class WeizmannHorseDataset(BaseSegDataset):
    """Weizmann horses written by :func:`build_weizmann_horses`.

    Layout under ``data_root``: ``images/{train,val}/*.jpg``,
    ``annotations/{train,val}/*.png`` (0 background, 1 horse) and the id
    lists ``train.txt`` / ``val.txt``.
    """
    METAINFO = dict(classes=('background', 'horse'),
                    palette=[[0, 0, 0], [139, 69, 19]])

    def __init__(self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         **kwargs)


def figure_ground(mask_path: str, size: tuple[int, int]) -> np.ndarray:
    """The class-index map (uint8, 0 / 1) of a JPEG mask, at ``size``
    (width, height) of its photograph."""
    if not osp.isfile(mask_path):
        raise ImageReadError(f'mask missing: {mask_path}')
    mask = cv2.imread(mask_path, cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise ImageReadError(f'not a readable image: {mask_path}')
    if mask.shape[::-1] != tuple(size):
        mask = cv2.resize(mask, tuple(size),
                          interpolation=cv2.INTER_NEAREST_EXACT)
    return (mask >= THRESHOLD).astype(np.uint8)


def build_weizmann_horses(source: str,
                          root: str,
                          long_side: int | None = None,
                          splits: dict[str, list[str]] | None = None) -> dict:
    """Write the horses under ``root`` in MMSeg's layout; skip what exists.

    Args:
        source: The data set's folder (``rgb/`` and ``figure_ground/``).
        root: The output folder.
        long_side: Resize each photograph (area) and its labels (nearest)
            so that its longer side has this many pixels; None keeps the
            photographs byte for byte.
        splits: ``{split: ids}``; default the packaged 180 / 48 split.

    Every file is written atomically; ``manifest.json`` records the
    parameters and a rerun with others is refused. The id lists are written
    last.

    Returns:
        The manifest.
    """
    splits = splits or {s: read_split(s) for s in SPLITS}
    if set(splits) - set(SPLITS):
        raise UserError(f'splits must be among {SPLITS}, got {list(splits)}')
    params = dict(long_side=long_side, threshold=THRESHOLD,
                  ids={s: list(ids) for s, ids in splits.items()})
    claim_folder(osp.join(root, 'manifest.json'), params)
    jobs = [(s, i) for s, ids in splits.items() for i in ids]
    for split, name in track(jobs, description='weizmann horses'):
        img_src = osp.join(source, 'rgb', f'{name}.jpg')
        img_path = osp.join(root, 'images', split, f'{name}.jpg')
        ann_path = osp.join(root, 'annotations', split, f'{name}.png')
        if osp.isfile(img_path) and osp.isfile(ann_path):
            continue
        image = read_image(img_src)
        h, w = image.shape[:2]
        label = figure_ground(
            osp.join(source, 'figure_ground', f'{name}.jpg'), (w, h))
        if long_side is not None and max(h, w) != long_side:
            scale = long_side / max(h, w)
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            label = cv2.resize(label, size,
                               interpolation=cv2.INTER_NEAREST_EXACT)
            with atomic_path(img_path) as tmp:
                if not cv2.imwrite(tmp, image, [cv2.IMWRITE_JPEG_QUALITY,
                                                95]):
                    raise OSError(f'could not write {img_path}')
        else:  # the photograph as published, not re-encoded
            with atomic_path(img_path) as tmp:
                shutil.copyfile(img_src, tmp)
        with atomic_path(ann_path) as tmp:
            if not cv2.imwrite(tmp, label):
                raise OSError(f'could not write {ann_path}')
    for split, ids in splits.items():
        with atomic_path(osp.join(root, f'{split}.txt')) as tmp:
            with open(tmp, 'w') as f:
                f.write(''.join(f'{i}\n' for i in ids))
    return params
