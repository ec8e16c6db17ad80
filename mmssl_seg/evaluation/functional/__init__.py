from .bsds import (
                   covering,
                   score_ucm2,
                   summarise_boundaries,
                   summarise_hierarchies,
)
from .davis import boundary_f_measure, region_similarity
from .floor import constant_prediction_miou
from .matching import (
                   confusion_matrix,
                   hungarian_mapping,
                   majority_mapping,
                   mapped_miou,
)
from .pmiou import PmIoUAccumulator, pmiou_from_confusion
from .purity import grid_segments, region_purity, tree_pair_agreement

__all__ = [
    'PmIoUAccumulator', 'boundary_f_measure', 'constant_prediction_miou',
    'covering', 'confusion_matrix', 'grid_segments',
    'hungarian_mapping', 'majority_mapping', 'mapped_miou',
    'pmiou_from_confusion', 'region_purity', 'region_similarity', 'score_ucm2',
    'summarise_boundaries', 'summarise_hierarchies', 'tree_pair_agreement'
]
