from .aux_contrast_loss import AuxLabelContrastLoss, PixelMeta
from .grouping_contrast_loss import GroupingContrastLoss
from .mask_contrast_loss import (MaskContrastLoss, SaliencyBCELoss,
                                 mask_prototypes)
from .triplet_loss import TripletRankingLoss

__all__ = [
    'AuxLabelContrastLoss', 'GroupingContrastLoss', 'MaskContrastLoss', 'PixelMeta',
    'SaliencyBCELoss', 'TripletRankingLoss', 'mask_prototypes'
]
