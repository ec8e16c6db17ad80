from .aux_contrast import AuxLabelContrast
from .hier_grouping import HierarchicalGrouping
from .mask_contrast import MaskContrast
from .mix_match import MixMatch

__all__ = ['AuxLabelContrast', 'HierarchicalGrouping', 'MaskContrast',
           'MixMatch']
