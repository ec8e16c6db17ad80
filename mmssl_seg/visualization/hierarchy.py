"""A picture of region hierarchies: image, edges, UCM and cuts."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from mmssl_seg.visualization.panels import save_panel_grid


def _grey(values: np.ndarray) -> np.ndarray:
    scaled = np.clip(255 * (1 - values / max(values.max(), 1e-6)), 0, 255)
    return np.repeat(scaled.astype(np.uint8)[..., None], 3, axis=2)


def _regions(image_rgb: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each region filled with its mean colour (boundaries in black)."""
    flat = labels.ravel()
    count = np.bincount(flat)[:, None]
    means = np.stack([np.bincount(flat, image_rgb[..., c].ravel())
                      for c in range(3)], 1) / np.maximum(count, 1)
    out = means[labels].astype(np.uint8)
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:] |= labels[1:] != labels[:-1]
    out[edge] = 0
    return out


def save_hierarchy_picture(examples: Sequence[tuple], path: str,
                           cuts: Sequence[int] = (40, 12, 4)) -> None:
    """Write one row per example: image, edges, UCM (the tree's boundaries,
    darker = merged later), and the partitions with ``cuts`` regions.

    Args:
        examples: ``(bgr image, edge map, RegionTree)`` tuples.
        path: Output PNG.
        cuts: Region counts of the cuts shown (each at most the leaves).
    """
    rows = []
    for image, edges, tree in examples:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        row = [rgb, _grey(edges), _grey(tree.boundaries())]
        merges = np.sort(tree.altitudes[tree.num_leaves:])[::-1]
        for n in cuts:
            # below the (n-1)-th highest merge n regions remain
            level = merges[n - 1] if n - 1 < len(merges) else 0.0
            row.append(_regions(rgb, tree.cut(float(level))))
        rows.append(row)
    titles = ['image', 'edges', 'UCM'] + [f'{n} regions' for n in cuts]
    save_panel_grid(rows, titles, path)
