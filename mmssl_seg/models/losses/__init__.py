from .mask_contrast_loss import (MaskContrastLoss, SaliencyBCELoss,
                                 mask_prototypes)

__all__ = ['MaskContrastLoss', 'SaliencyBCELoss', 'mask_prototypes']
