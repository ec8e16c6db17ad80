from .mask_contrast import MaskContrast
from .mix_match import MixMatch

__all__ = ['MaskContrast', 'MixMatch']
