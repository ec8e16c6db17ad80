from .checkpoint_hook import AtomicCheckpointHook
from .momentum_update_hook import MomentumUpdateHook
from .pretrained_check_hook import (
                                    PretrainedGapError,
                                    PretrainedInitCheckHook,
                                    pretrained_gaps,
)
from .prior_check_hook import (
                                    PriorFileError,
                                    PriorFilesCheckHook,
                                    prior_problems,
)

__all__ = ['AtomicCheckpointHook', 'MomentumUpdateHook',
           'PretrainedGapError', 'PretrainedInitCheckHook', 'PriorFileError',
           'PriorFilesCheckHook', 'pretrained_gaps', 'prior_problems']
