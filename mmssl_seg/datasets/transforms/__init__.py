from .aux_labels import LoadAuxLabels, MeanCutOut, PackAuxLabelInputs
from .saliency import LoadSaliencyMask, PackSaliencyViews, SaliencyViews

__all__ = [
    'LoadAuxLabels', 'LoadSaliencyMask', 'MeanCutOut', 'PackAuxLabelInputs',
    'PackSaliencyViews', 'SaliencyViews'
]
