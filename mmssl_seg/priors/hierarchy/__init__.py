from .edges import ColourGradientEdges, EdgeDetector, StructuredForestEdges
from .generate import hierarchy, make_hierarchies, read_ucm2
from .tree import RegionTree, tree_from_hierarchy

__all__ = [
    'ColourGradientEdges', 'EdgeDetector', 'RegionTree',
    'StructuredForestEdges', 'hierarchy', 'make_hierarchies', 'read_ucm2',
    'tree_from_hierarchy'
]
