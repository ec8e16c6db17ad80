from .aux_contrast_loss import AuxLabelContrastLoss, PixelMeta
from .boundary_loss import ClassBalancedBoundaryLoss
from .grouping_contrast_loss import GroupingContrastLoss
from .mask_contrast_loss import (
                                 MaskContrastLoss,
                                 SaliencyBCELoss,
                                 mask_prototypes,
                                 pixel_prototypes,
                                 upsampled_pixels,
)
from .triplet_loss import TripletRankingLoss

__all__ = [
    'AuxLabelContrastLoss', 'ClassBalancedBoundaryLoss',
    'GroupingContrastLoss', 'MaskContrastLoss', 'PixelMeta',
    'SaliencyBCELoss', 'TripletRankingLoss', 'mask_prototypes',
    'pixel_prototypes', 'upsampled_pixels'
]
