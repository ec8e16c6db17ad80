"""Auxiliary labels for cross-image pixel contrast: multi-scale features of
an existing extractor, K-means, outlier dropping, superpixel voting, PmIoU."""
from .features import DEEPLAB_SCALES, RESNET_SCALES, MultiScaleExtractor
from .generate import (class_ground_truth, draw_aux_labels, fit_centres,
                       label_image, make_aux_labels, superpixels, sweep_k,
                       vote)

__all__ = [
    'DEEPLAB_SCALES', 'MultiScaleExtractor', 'RESNET_SCALES',
    'class_ground_truth', 'draw_aux_labels', 'fit_centres', 'label_image',
    'make_aux_labels', 'superpixels', 'sweep_k', 'vote'
]
