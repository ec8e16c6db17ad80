from .aux_contrast import AuxLabelContrast
from .mask_contrast import MaskContrast
from .mix_match import MixMatch

__all__ = ['AuxLabelContrast', 'MaskContrast', 'MixMatch']
