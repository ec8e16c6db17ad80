from .edges import (ColourGradientEdges, ContourNetEdges, EdgeDetector,
                    StructuredForestEdges)
from .generate import hierarchy, make_hierarchies, read_ucm2, ucm_tree
from .tree import RegionTree, tree_from_hierarchy

__all__ = [
    'ColourGradientEdges', 'ContourNetEdges', 'EdgeDetector', 'RegionTree',
    'StructuredForestEdges', 'hierarchy', 'make_hierarchies', 'read_ucm2',
    'tree_from_hierarchy', 'ucm_tree'
]
