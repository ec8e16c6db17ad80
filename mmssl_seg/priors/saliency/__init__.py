"""Salient-object masks for MaskContrast: hand-crafted priors, a saliency
network bootstrapped on them, imported masks; post-processing and quality."""
from .generate import SaliencyNetwork, ground_truth_reader, make_saliency
from .handcrafted import METHODS
from .postprocess import postprocess
from .quality import SaliencyQuality

__all__ = [
    'METHODS', 'SaliencyNetwork', 'SaliencyQuality', 'ground_truth_reader',
    'make_saliency', 'postprocess'
]
