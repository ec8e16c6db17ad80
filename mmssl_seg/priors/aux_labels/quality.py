"""How good auxiliary labels are, and what they look like: PmIoU (eq. 3)
of written labels, the K sweep the paper chose K with, and a picture."""
from __future__ import annotations

from typing import Callable, Sequence

import cv2
import numpy as np
from rich.progress import track

from mmssl_seg.evaluation.functional import PmIoUAccumulator
from mmssl_seg.priors.aux_labels.generate import (
    fit_on_points,
    labels_from_feature,
    superpixels,
)
from mmssl_seg.structures import prior_path
from mmssl_seg.utils.io import read_image


def palette_for(k: int) -> np.ndarray:
    """Fixed colours for K auxiliary labels (the same in every picture)."""
    rng = np.random.default_rng(12345)
    return rng.integers(30, 256, size=(k, 3)).astype(np.uint8)


def ground_truth_palette(data_config: str | None = None,
                         split: str = 'train') -> Sequence[Sequence[int]]:
    """The class colours for drawing ground truth: the data config's own
    dataset palette where it has one, else PASCAL VOC's (a training config
    of unlabelled images has none)."""
    from mmseg.datasets import PascalVOCDataset
    if data_config:
        from mmssl_seg.datasets.builder import split_dataset
        palette = split_dataset(data_config, split).metainfo.get('palette')
        if palette:
            return palette
    return PascalVOCDataset.METAINFO['palette']


def label_quality(merged: dict, out_dir: str, ground_truth: Callable,
                  num_classes: int) -> dict:
    """PmIoU (eq. 3) of every image :func:`make_aux_labels` labelled
    (``merged``: its manifest) against ground truth."""
    labelled = [s for s in merged['entries'] if s not in merged['failed']]
    return pmiou_of_labels(out_dir, labelled, merged['params']['k'],
                           ground_truth, num_classes)


def pmiou_of_labels(out_dir: str, stems: Sequence[str], k: int,
                    ground_truth: Callable, num_classes: int) -> dict:
    """PmIoU (eq. 3) of the written labels against ground truth."""
    accumulator = PmIoUAccumulator(k, num_classes)
    for stem in stems:
        labels = cv2.imread(prior_path(out_dir, 'aux_labels', stem),
                            cv2.IMREAD_UNCHANGED)
        accumulator.update(labels.astype(np.int64),
                           ground_truth(stem, labels.shape))
    return {'PmIoU': accumulator.compute(), 'images': len(stems), 'K': k}


def sweep_k(images: Sequence[tuple[str, str]], extractor: Callable,
            ks: Sequence[int], ground_truth: Callable, num_classes: int,
            max_points: int | None = None, drop: float = 0.05,
            superpixel_size: int = 16, compactness: float = 10.0,
            seed: int = 0) -> list[dict]:
    """PmIoU of the labels for several K on ``images`` (fitted on them too),
    as the paper chose K; features are extracted once."""
    features = {stem: extractor(read_image(path))
                for stem, path in track(images, description='features')}
    points = np.concatenate([
        f.flatten(1).T.numpy() for f in features.values()])
    rng = np.random.default_rng(seed)
    if max_points is not None and len(points) > max_points:
        points = points[rng.choice(len(points), max_points, replace=False)]
    segments = {stem: superpixels(read_image(path), superpixel_size,
                                  compactness) for stem, path in images}
    rows = []
    for k in ks:
        centres, threshold = fit_on_points(points, k, drop, seed)
        accumulator = PmIoUAccumulator(k, num_classes)
        for stem, feature in features.items():
            voted, _ = labels_from_feature(feature, centres, threshold,
                                           segments[stem])
            accumulator.update(voted.astype(np.int64),
                               ground_truth(stem, voted.shape))
        rows.append({'K': k, 'PmIoU': accumulator.compute()})
    return rows


def draw_aux_labels(out_dir: str, images: Sequence[tuple[str, str]],
                    k: int, path: str, ground_truth: Callable | None = None,
                    class_palette: Sequence[Sequence[int]] | None = None
                    ) -> str:
    """image | superpixels | auxiliary labels (one colour per label in
    every image) | ground truth, one row per image."""
    from skimage.segmentation import find_boundaries

    from mmssl_seg.visualization.panels import colorize, save_panel_grid
    colours = palette_for(k)
    rows = []
    for stem, image_path in images:
        image = read_image(image_path)[..., ::-1]
        labels = cv2.imread(prior_path(out_dir, 'aux_labels', stem),
                            cv2.IMREAD_UNCHANGED)
        segments = cv2.imread(prior_path(out_dir, 'superpixels', stem),
                              cv2.IMREAD_UNCHANGED)
        if labels is None or segments is None:
            raise FileNotFoundError(f'no auxiliary labels for {stem} in '
                                    f'{out_dir}')
        edges = image.copy()
        edges[find_boundaries(segments)] = (255, 255, 0)
        row = [np.ascontiguousarray(image), edges, colorize(labels, colours)]
        if ground_truth is not None:
            row.append(colorize(ground_truth(stem, labels.shape),
                                class_palette))
        rows.append(row)
    titles = ['image', 'superpixels', f'auxiliary labels (K={k})']
    if ground_truth is not None:
        titles.append('ground truth')
    save_panel_grid(rows, titles, path)
    return path
