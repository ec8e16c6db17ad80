from .momentum_update_hook import MomentumUpdateHook
from .pretrained_check_hook import (PretrainedGapError,
                                    PretrainedInitCheckHook, pretrained_gaps)

__all__ = ['MomentumUpdateHook', 'PretrainedGapError',
           'PretrainedInitCheckHook', 'pretrained_gaps']
