"""Salient-object masks for MaskContrast: hand-crafted priors, a saliency
network bootstrapped on them, imported masks; post-processing and quality."""
from .generate import make_saliency, saliency_network
from .handcrafted import METHODS
from .postprocess import postprocess
from .quality import SaliencyQuality

__all__ = [
    'METHODS', 'SaliencyQuality', 'make_saliency', 'postprocess',
    'saliency_network'
]
