"""Unlabelled images as a dataset: a folder (searched recursively) or a list
file, for pretraining on raw frames (NYUv2, Cityscapes sequences, COCO) and
for the offline prior tools that run over the same images."""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp')


@DATASETS.register_module()
class UnlabelledImageDataset(BaseSegDataset):
    """Images without labels.

    Every image under ``data_prefix['img_path']`` whose name ends with one of
    ``img_suffix`` (searched recursively, sorted), or the images a list file
    names (one per line, relative to that folder, with or without suffix).
    The priors of an image are found by its file stem, so two images with the
    same stem are refused. Samples carry ``img_path`` only (and the empty
    ``seg_fields`` MMSeg's transforms expect); MMPretrain pipelines read
    them too (``type='mmseg.UnlabelledImageDataset'`` from their scope).

    Args:
        ann_file: Optional list file.
        img_suffix: Suffixes of the images (case-insensitive).
        Others as :class:`BaseSegDataset` (``data_prefix=dict(img_path=...)``).
    """

    def __init__(self, ann_file: str = '',
                 img_suffix: str | Sequence[str] = IMAGE_SUFFIXES,
                 **kwargs) -> None:
        suffixes = (img_suffix, ) if isinstance(img_suffix, str) else tuple(
            img_suffix)
        self.suffixes = tuple(s.lower() for s in suffixes)
        super().__init__(ann_file=ann_file, img_suffix=suffixes[0], **kwargs)

    def _listed(self, root: str) -> list[str]:
        with open(self.ann_file) as f:
            names = [line.strip() for line in f if line.strip()]
        paths, missing = [], []
        for name in names:
            candidates = [osp.join(root, name)] + [
                osp.join(root, name + s) for s in self.suffixes]
            found = next((c for c in candidates if osp.isfile(c)), None)
            (paths if found else missing).append(found or name)
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} of the {len(names)} images of '
                f'{self.ann_file} are not under {root}, e.g. {missing[:3]}')
        return paths

    def _found(self, root: str) -> list[str]:
        if not osp.isdir(root):
            raise FileNotFoundError(f'image folder not found: {root}')
        paths = [osp.join(d, f) for d, _, files in os.walk(root)
                 for f in files if f.lower().endswith(self.suffixes)]
        return sorted(paths)

    def load_data_list(self) -> list[dict]:
        root = self.data_prefix.get('img_path', '') or ''
        paths = self._listed(root) if self.ann_file else self._found(root)
        if not paths:
            raise FileNotFoundError(
                f'no image ({", ".join(self.suffixes)}) in {root}')
        stems: dict[str, str] = {}
        for path in paths:
            stem = osp.splitext(osp.basename(path))[0]
            if stem in stems:
                raise ValueError(f'two images named {stem}: {stems[stem]} '
                                 f'and {path}; priors are found by stem')
            stems[stem] = path
        return [dict(img_path=p, label_map=self.label_map,
                     reduce_zero_label=False, seg_fields=[]) for p in paths]
