from __future__ import annotations

from typing import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS

from mmssl_seg.evaluation.functional import (
    confusion_matrix,
    hungarian_mapping,
    majority_mapping,
    mapped_miou,
    pmiou_from_confusion,
)


@METRICS.register_module()
class SegmentIoUMetric(BaseMetric):
    """Scores predictions that are segment ids, not classes (clusters,
    auxiliary labels, hierarchy cuts): PmIoU (auxiliary-label paper, eq. 3)
    and mIoU after mapping ids to classes, Hungarian (one-to-one) when there
    are as many ids as classes, majority (many-to-one) otherwise.

    Use it as ``val_evaluator`` for a model whose ``pred_sem_seg`` holds ids
    ``0..num_segments-1``.

    Args:
        num_segments: K, the number of ids.
        ignore_index: Ground truth that is not scored.
    """
    default_prefix = 'segments'

    def __init__(self, num_segments: int, ignore_index: int = 255,
                 collect_device: str = 'cpu', prefix: str | None = None
                 ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_segments = num_segments
        self.ignore_index = ignore_index

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            pred = sample['pred_sem_seg']['data'][0].cpu().numpy()
            gt = sample['gt_sem_seg']['data'][0].cpu().numpy()
            self.results.append(confusion_matrix(
                pred, gt, self.num_segments, num_classes, self.ignore_index))

    def compute_metrics(self, results: list) -> dict:
        confusion = np.sum(results, axis=0)
        one_to_one = self.num_segments == confusion.shape[1]
        mapping = (hungarian_mapping if one_to_one else majority_mapping)(
            confusion)
        return {
            'mIoU': mapped_miou(confusion, mapping)[0],
            'PmIoU': pmiou_from_confusion(confusion, self.num_segments),
        }
