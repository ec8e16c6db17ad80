from .aux_contrast_loss import AuxLabelContrastLoss, PixelMeta
from .mask_contrast_loss import (MaskContrastLoss, SaliencyBCELoss,
                                 mask_prototypes)
from .triplet_loss import TripletRankingLoss

__all__ = [
    'AuxLabelContrastLoss', 'MaskContrastLoss', 'PixelMeta',
    'SaliencyBCELoss', 'TripletRankingLoss', 'mask_prototypes'
]
