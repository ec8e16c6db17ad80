from .edges import (
                    DEFAULT_FOREST,
                    DEFAULT_FOREST_DIR,
                    DEFAULT_MULTISCALE,
                    DEFAULT_SHARPEN,
                    DEFAULT_SPECTRAL,
                    DEFAULT_SPECTRAL_SIZE,
                    ColourGradientEdges,
                    ContourNetEdges,
                    EdgeDetector,
                    SpectralEdges,
                    StructuredForestEdges,
                    thin_edges,
)
from .generate import (
                    ARC_STRENGTHS,
                    DEFAULT_ARCS,
                    hierarchy,
                    make_hierarchies,
                    tree_from_hierarchy,
                    ucm_tree,
)

__all__ = [
    'ARC_STRENGTHS', 'DEFAULT_ARCS', 'DEFAULT_FOREST', 'DEFAULT_FOREST_DIR',
    'DEFAULT_MULTISCALE', 'DEFAULT_SHARPEN', 'DEFAULT_SPECTRAL',
    'DEFAULT_SPECTRAL_SIZE',
    'ColourGradientEdges', 'ContourNetEdges', 'EdgeDetector',
    'SpectralEdges', 'StructuredForestEdges', 'hierarchy',
    'make_hierarchies', 'thin_edges', 'tree_from_hierarchy', 'ucm_tree'
]
