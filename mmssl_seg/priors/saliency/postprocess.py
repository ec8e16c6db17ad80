"""From a soft saliency map to the object mask MaskContrast trains on, as
the authors post-process: threshold at 0.5, remove connected components
smaller than 1 % of the image, drop the image when less than 1 % is left."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np


@dataclass
class MaskDecision:
    """What post-processing made of one image."""
    kept: bool
    reason: str
    salient_fraction: float
    components_removed: int

    def to_dict(self) -> dict:
        return asdict(self)


def postprocess(soft: np.ndarray, threshold: float = 0.5,
                min_component: float = 0.01, min_salient: float = 0.01
                ) -> tuple[np.ndarray, MaskDecision]:
    """Binary mask (uint8 0/1) and the decision for one soft map in [0, 1].

    Args:
        threshold: Foreground where ``soft >= threshold``.
        min_component: Components (8-connected) smaller than this fraction
            of the image are removed.
        min_salient: The image is dropped when the remaining foreground is
            smaller than this fraction.
    """
    mask = (soft >= threshold).astype(np.uint8)
    count, components, stats, _ = cv2.connectedComponentsWithStats(
        mask, connectivity=8)
    small = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] <
                           min_component * mask.size) + 1
    if len(small):
        mask[np.isin(components, small)] = 0
    fraction = float(mask.mean())
    if fraction < min_salient:
        reason = ('no salient pixel' if count == 1 else
                  f'salient area {fraction:.2%} < {min_salient:.0%}')
        return mask, MaskDecision(False, reason, fraction, len(small))
    return mask, MaskDecision(True, 'kept', fraction, len(small))
