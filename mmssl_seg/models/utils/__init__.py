from .patch_sampler import PatchSampler, Patches
from .queue import FeatureQueue
from .triplet_graph import (class_connected_graph, class_connected_triplets,
                            random_triplets)

__all__ = [
    'FeatureQueue', 'PatchSampler', 'Patches', 'class_connected_graph',
    'class_connected_triplets', 'random_triplets'
]
