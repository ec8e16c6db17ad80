"""Texture mosaics: a segmentation dataset built from the photographs bundled
with scikit-image, so that the quick-start needs no download.

Each image is a Voronoi partition of the canvas whose cells are filled with
crops of six real textures (brick, grass, gravel, lunar surface, stained
tissue, deep-field stars), in the spirit of the Brodatz texture mosaics. The
label map is exact. Train and val crops come from disjoint parts of every
source photograph (left 75 % / right 25 %), so val pixels are never seen in
training.
"""
from __future__ import annotations

import os.path as osp

import cv2
import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from rich.progress import track

from mmssl_seg.utils.io import atomic_path, claim_folder

#: class name -> scikit-image loader name
TEXTURES = {
    'brick': 'brick',
    'grass': 'grass',
    'gravel': 'gravel',
    'moon': 'moon',
    'tissue': 'immunohistochemistry',
    'stars': 'hubble_deep_field',
}
TRAIN_FRACTION = 0.75  # of each source's width, for train crops


@DATASETS.register_module()
class TextureMosaicDataset(BaseSegDataset):
    """Texture mosaics written by :func:`build_texture_mosaics`.

    Layout under ``data_root``: ``images/{train,val}/*.jpg``,
    ``annotations/{train,val}/*.png`` (labels 0..5) and the id lists
    ``train.txt`` / ``val.txt``.
    """
    METAINFO = dict(
        classes=tuple(TEXTURES),
        palette=[[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200],
                 [245, 130, 48], [145, 30, 180]])

    def __init__(self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         **kwargs)


def _load_sources() -> dict[str, np.ndarray]:
    import skimage.data
    sources = {}
    for name, loader in TEXTURES.items():
        image = getattr(skimage.data, loader)()
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        sources[name] = np.ascontiguousarray(image[..., :3])
    return sources


def _crop(source: np.ndarray, split: str, size: int,
          rng: np.random.Generator) -> np.ndarray:
    """A random square crop of the split's part of ``source``, resized to
    ``size`` (zoom 1-2x), rotated by a multiple of 90 degrees and flipped."""
    h, w = source.shape[:2]
    cut = int(w * TRAIN_FRACTION)
    x0, x1 = (0, cut) if split == 'train' else (cut, w)
    side = int(min(size * rng.uniform(1.0, 2.0), x1 - x0, h))
    x = rng.integers(x0, x1 - side + 1)
    y = rng.integers(0, h - side + 1)
    patch = cv2.resize(source[y:y + side, x:x + side], (size, size),
                       interpolation=cv2.INTER_AREA)
    patch = np.rot90(patch, k=int(rng.integers(4)))
    return patch[:, ::-1] if rng.random() < 0.5 else patch


def make_mosaic(sources: dict[str, np.ndarray], split: str, size: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One RGB mosaic and its label map (values index ``TEXTURES``)."""
    names = list(sources)
    num_cells = int(rng.integers(2, 6))
    seeds = rng.uniform(0, size, size=(num_cells, 2))
    classes = rng.choice(len(names), size=num_cells, replace=True)
    if len(set(classes.tolist())) == 1:  # at least two textures per image
        classes[-1] = (classes[0] + rng.integers(1, len(names))) % len(names)
    yy, xx = np.mgrid[0:size, 0:size]
    dist = ((yy[None] - seeds[:, 0, None, None])**2 +
            (xx[None] - seeds[:, 1, None, None])**2)
    label = classes[dist.argmin(0)].astype(np.uint8)
    image = np.zeros((size, size, 3), np.uint8)
    for c in np.unique(label):
        mask = label == c
        image[mask] = _crop(sources[names[c]], split, size, rng)[mask]
    return image, label


def build_texture_mosaics(root: str,
                          num_train: int = 240,
                          num_val: int = 60,
                          size: int = 128,
                          seed: int = 0) -> dict:
    """Write the mosaic dataset under ``root``; skip what already exists.

    Every image and label is written atomically; ``manifest.json`` records the
    parameters, and a rerun with other parameters refuses to mix them. The id
    lists ``train.txt`` and ``val.txt`` are written last.

    Returns:
        The manifest.
    """
    params = dict(num_train=num_train, num_val=num_val, size=size, seed=seed,
                  classes=list(TEXTURES), sources=dict(TEXTURES),
                  train_fraction=TRAIN_FRACTION)
    claim_folder(osp.join(root, 'manifest.json'), params)
    sources = _load_sources()
    jobs = [('train', i) for i in range(num_train)] + [('val', i)
                                                       for i in range(num_val)]
    for split, index in track(jobs, description='texture mosaics'):
        img_path = osp.join(root, 'images', split, f'{index:05d}.jpg')
        ann_path = osp.join(root, 'annotations', split, f'{index:05d}.png')
        if osp.isfile(img_path) and osp.isfile(ann_path):
            continue
        # one generator per image: reruns and partial runs give equal files
        rng = np.random.default_rng(
            [seed, 0 if split == 'train' else 1, index])
        image, label = make_mosaic(sources, split, size, rng)
        for path, array, flags in (
                (img_path, image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95]),
                (ann_path, label, [])):
            with atomic_path(path) as tmp:
                if not cv2.imwrite(tmp, np.ascontiguousarray(array), flags):
                    raise OSError(f'could not write {path}')
    for split, count in (('train', num_train), ('val', num_val)):
        with atomic_path(osp.join(root, f'{split}.txt')) as tmp:
            with open(tmp, 'w') as f:
                f.write(''.join(f'{i:05d}\n' for i in range(count)))
    return params
