from .mask_contrast_loss import (MaskContrastLoss, SaliencyBCELoss,
                                 mask_prototypes)
from .triplet_loss import TripletRankingLoss

__all__ = [
    'MaskContrastLoss', 'SaliencyBCELoss', 'TripletRankingLoss',
    'mask_prototypes'
]
