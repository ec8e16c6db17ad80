"""Auxiliary labels for cross-image pixel contrast: multi-scale features of
an existing extractor, K-means, outlier dropping, superpixel voting
(``generate``); PmIoU, the K sweep and a picture (``quality``)."""
from .features import DEEPLAB_SCALES, RESNET_SCALES, MultiScaleExtractor
from .generate import (
                       fit_centres,
                       label_image,
                       make_aux_labels,
                       superpixels,
                       vote,
)
from .quality import (
    draw_aux_labels,
    ground_truth_palette,
    label_quality,
    pmiou_of_labels,
    sweep_k,
)

__all__ = [
    'ground_truth_palette',
    'DEEPLAB_SCALES', 'MultiScaleExtractor', 'RESNET_SCALES',
    'draw_aux_labels', 'fit_centres', 'label_image', 'label_quality',
    'make_aux_labels', 'pmiou_of_labels', 'superpixels', 'sweep_k', 'vote'
]
