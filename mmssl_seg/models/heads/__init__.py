from .graph_triplet_head import GraphTripletHead
from .hypercolumn_head import HypercolumnHead

__all__ = ['GraphTripletHead', 'HypercolumnHead']
