"""BSDS500 boundaries as a two-class segmentation task, to train this
project's contour detector from random init on BSDS train + val (the
strict setting of hierarchical grouping, sec. 4.1 "Edges and Regions")."""
from __future__ import annotations

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class BSDSBoundaryDataset(BaseSegDataset):
    """Images of ``images/<split>`` with the annotations of
    ``groundTruth/<split>/<stem>.mat`` (loaded by
    :class:`~mmssl_seg.datasets.transforms.LoadBSDSBoundaries`).
    ``data_prefix`` names the split folders, e.g.
    ``dict(img_path='images/train', seg_map_path='groundTruth/train')``;
    combine splits with a ``ConcatDataset``."""

    METAINFO = dict(classes=('background', 'boundary'),
                    palette=[[255, 255, 255], [0, 0, 0]])

    def __init__(self, img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.mat', **kwargs) -> None:
        super().__init__(img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)
