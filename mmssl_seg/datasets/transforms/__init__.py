from .aux_labels import LoadAuxLabels, MeanCutOut, PackAuxLabelInputs
from .bsds_boundaries import LoadBSDSBoundaries
from .region_hierarchy import LoadRegionHierarchy, PackRegionViews, RegionViews
from .saliency import LoadSaliencyMask, PackSaliencyViews, SaliencyViews

__all__ = [
    'LoadAuxLabels', 'LoadBSDSBoundaries', 'LoadRegionHierarchy',
    'LoadSaliencyMask', 'MeanCutOut', 'PackAuxLabelInputs', 'PackRegionViews',
    'PackSaliencyViews', 'RegionViews', 'SaliencyViews'
]
