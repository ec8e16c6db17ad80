from .colorization import ColorizationDataPreProcessor
from .priors import AuxLabelDataPreProcessor, RegionViewsDataPreProcessor

__all__ = ['AuxLabelDataPreProcessor', 'ColorizationDataPreProcessor',
           'RegionViewsDataPreProcessor']
