"""Pictures of dense embeddings: the first three principal components as RGB
(hierarchical-grouping paper Fig. 2), K-means clusters coloured by the class
they match, and the ground truth, side by side."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from mmssl_seg.evaluation.features import iterate_features, upsample_labels
from mmssl_seg.evaluation.functional import (
    confusion_matrix,
    hungarian_mapping,
    majority_mapping,
)
from mmssl_seg.utils.kmeans import assign, fit_kmeans
from mmssl_seg.visualization.panels import colorize, save_panel_grid


def pca_rgb(features: Sequence[torch.Tensor]) -> list[np.ndarray]:
    """Project ``C x h x w`` maps on the 3 principal components of all their
    pixels together (one basis, so colours compare across images) and scale
    each component to 0..255 with its 1st-99th percentiles."""
    points = torch.cat([f.flatten(1).T for f in features]).double()
    mean = points.mean(0)
    _, _, basis = torch.pca_lowrank(points - mean, q=3, center=False)
    projected = ((points - mean) @ basis[:, :3]).numpy()
    low, high = np.percentile(projected, [1, 99], axis=0)
    scaled = np.clip((projected - low) / np.maximum(high - low, 1e-12), 0, 1)
    out, start = [], 0
    for f in features:
        h, w = f.shape[1:]
        out.append((scaled[start:start + h * w].reshape(h, w, 3) *
                    255).astype(np.uint8))
        start += h * w
    return out


def draw_embeddings(model, dataset, indices: Sequence[int], path: str,
                    kind: str = 'backbone', in_index: int = -1,
                    num_clusters: int | None = None, seed: int = 0) -> dict:
    """Write image | PCA | clusters | ground truth for ``indices`` as one PNG.

    Clusters are fitted on the pixels of these images and coloured with the
    class each one overlaps most (Hungarian when K equals the classes).
    """
    palette = dataset.metainfo['palette']
    num_classes = len(dataset.metainfo['classes'])
    k = num_clusters or num_classes
    items = list(iterate_features(model, dataset, kind, in_index,
                                  indices=indices, description='embeddings'))
    points = torch.cat([i.feature.flatten(1).T for i in items])
    centroids = fit_kmeans(points.numpy(), min(k, len(points)), seed)
    clusters = [upsample_labels(assign(i.feature.flatten(1).T, centroids)
                                .view(*i.feature.shape[1:]), i.gt.shape)
                for i in items]
    confusion = sum(confusion_matrix(c, i.gt, len(centroids), num_classes)
                    for c, i in zip(clusters, items))
    mapping = (hungarian_mapping if len(centroids) == num_classes else
               majority_mapping)(confusion)
    rows = []
    for item, pca, ids in zip(items, pca_rgb([i.feature for i in items]),
                              clusters):
        image = dataset[item.index]['inputs'].permute(1, 2, 0).numpy()[
            ..., ::-1]
        painted = np.where(mapping[ids] >= 0, mapping[ids], 255)
        rows.append([np.ascontiguousarray(image), pca,
                     colorize(painted, palette), colorize(item.gt, palette)])
    save_panel_grid(rows, ['image', f'PCA of {kind}', f'K-means (K={k})',
                           'ground truth'], path,
                    legend=(dataset.metainfo['classes'], palette))
    return {'path': path, 'images': list(indices), 'K': k, 'kind': kind}
