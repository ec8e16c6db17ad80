from .aux_contrast_head import AuxContrastHead
from .deeplabv3_head import DeepLabV3Head
from .grouping_contrast_head import GroupingContrastHead
from .hypercolumn_head import HypercolumnHead
from .mask_contrast_head import MaskContrastHead
from .triplet_head import TripletHead

__all__ = ['AuxContrastHead', 'DeepLabV3Head', 'GroupingContrastHead',
           'HypercolumnHead', 'MaskContrastHead', 'TripletHead']
