from .deeplabv3_head import DeepLabV3Head
from .graph_triplet_head import GraphTripletHead
from .grouping_contrast_head import GroupingContrastHead
from .hypercolumn_head import HypercolumnHead

__all__ = ['DeepLabV3Head', 'GraphTripletHead', 'GroupingContrastHead',
           'HypercolumnHead']
