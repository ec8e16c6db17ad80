from .bsds import HierarchyBenchmark, covering, summarise_boundaries
from .davis import boundary_f_measure, region_similarity
from .matching import (confusion_matrix, hungarian_mapping, majority_mapping,
                       mapped_miou)
from .pmiou import PmIoUAccumulator, pmiou_from_confusion

__all__ = [
    'HierarchyBenchmark', 'PmIoUAccumulator', 'boundary_f_measure', 'covering', 'confusion_matrix',
    'hungarian_mapping', 'majority_mapping', 'mapped_miou',
    'pmiou_from_confusion', 'region_similarity', 'summarise_boundaries'
]
