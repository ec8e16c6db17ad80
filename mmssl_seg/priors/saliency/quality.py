"""Quality of saliency maps against foreground/background ground truth:
maximum F-beta over thresholds (beta^2 = 0.3, as saliency benchmarks use)
and mean absolute error, both averaged over images, plus PmIoU of the final
binary masks (the definition every prior reports)."""
from __future__ import annotations

import numpy as np

from mmssl_seg.evaluation.functional import PmIoUAccumulator

BETA2 = 0.3
THRESHOLDS = np.linspace(0, 1, 256)


class SaliencyQuality:
    """Accumulates per-image precision/recall curves and MAE of soft maps and
    the PmIoU of binary masks.

    Ground truth is 0 (background), 1 (foreground) or ``ignore_index``
    (not scored).
    """

    def __init__(self, ignore_index: int = 255) -> None:
        self.ignore_index = ignore_index
        self.precision: list[np.ndarray] = []
        self.recall: list[np.ndarray] = []
        self.mae: list[float] = []
        self.pmiou = PmIoUAccumulator(2, 2, ignore_index)

    def update(self, soft: np.ndarray, gt: np.ndarray,
               mask: np.ndarray | None = None) -> None:
        """Add one image: its soft map in [0, 1] and, when it was kept, its
        binary mask (a dropped image counts as all background)."""
        valid = gt != self.ignore_index
        s, g = soft[valid].astype(np.float64), gt[valid] == 1
        self.mae.append(float(np.abs(s - g).mean()) if s.size else 0.0)
        # precision / recall at every threshold via a histogram of scores
        bins = np.clip((s * 255).round().astype(np.int64), 0, 255)
        fg = np.bincount(bins[g], minlength=256)[::-1].cumsum()[::-1]
        allp = np.bincount(bins, minlength=256)[::-1].cumsum()[::-1]
        with np.errstate(invalid='ignore', divide='ignore'):
            self.precision.append(np.where(allp > 0, fg / allp, 0.0))
            self.recall.append(fg / max(int(g.sum()), 1))
        binary = np.zeros_like(gt) if mask is None else mask
        self.pmiou.update(binary.astype(np.int64), gt.astype(np.int64))

    def compute(self) -> dict:
        precision = np.mean(self.precision, axis=0)
        recall = np.mean(self.recall, axis=0)
        with np.errstate(invalid='ignore', divide='ignore'):
            f = (1 + BETA2) * precision * recall / (BETA2 * precision +
                                                     recall)
        f = np.nan_to_num(f)
        best = int(f.argmax())
        return {
            'images': len(self.mae),
            'max_F_beta': float(f[best]),
            'best_threshold': float(THRESHOLDS[best]),
            'MAE': float(np.mean(self.mae)),
            'mask_PmIoU': self.pmiou.compute(),
        }
