from .edges import (
                    ColourGradientEdges,
                    ContourNetEdges,
                    EdgeDetector,
                    SpectralEdges,
                    StructuredForestEdges,
                    thin_edges,
)
from .generate import (
                    hierarchy,
                    make_hierarchies,
                    tree_from_hierarchy,
                    ucm_tree,
)

__all__ = [
    'ColourGradientEdges', 'ContourNetEdges', 'EdgeDetector',
    'SpectralEdges', 'StructuredForestEdges', 'hierarchy',
    'make_hierarchies', 'thin_edges', 'tree_from_hierarchy', 'ucm_tree'
]
