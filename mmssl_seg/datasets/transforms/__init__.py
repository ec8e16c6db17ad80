from .aux_labels import LoadAuxLabels, MeanCutOut, PackAuxLabelInputs
from .region_hierarchy import (LoadRegionHierarchy, PackRegionViews,
                               RegionViews)
from .saliency import LoadSaliencyMask, PackSaliencyViews, SaliencyViews

__all__ = [
    'LoadAuxLabels', 'LoadRegionHierarchy', 'LoadSaliencyMask',
    'MeanCutOut', 'PackAuxLabelInputs', 'PackRegionViews',
    'PackSaliencyViews', 'RegionViews', 'SaliencyViews'
]
