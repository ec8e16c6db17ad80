from .edges import (
                    ColourGradientEdges,
                    ContourNetEdges,
                    EdgeDetector,
                    StructuredForestEdges,
)
from .generate import (
                    hierarchy,
                    make_hierarchies,
                    tree_from_hierarchy,
                    ucm_tree,
)

__all__ = [
    'ColourGradientEdges', 'ContourNetEdges', 'EdgeDetector',
    'StructuredForestEdges', 'hierarchy', 'make_hierarchies',
    'tree_from_hierarchy', 'ucm_tree'
]
