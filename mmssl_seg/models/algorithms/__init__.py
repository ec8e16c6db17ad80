from .mask_contrast import MaskContrast

__all__ = ['MaskContrast']
