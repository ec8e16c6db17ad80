from .patch_sampler import Patches, PatchSampler
from .point_sampling import sample_points
from .queue import FeatureQueue
from .tree_pairs import (
                         TreePairs,
                         map_between_views,
                         region_probabilities,
                         sample_tree_pairs,
)
from .triplet_graph import (
                         Triplets,
                         class_connected_triplets,
                         random_triplets,
)

__all__ = [
    'FeatureQueue', 'PatchSampler', 'Patches', 'TreePairs', 'Triplets',
    'class_connected_triplets',
    'map_between_views', 'random_triplets', 'region_probabilities',
    'sample_points', 'sample_tree_pairs'
]
