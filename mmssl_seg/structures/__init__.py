"""The file formats and folder layouts of the offline priors, shared by the
tools that write them and the transforms and protocols that read them."""
from .bsds import read_bsds_ground_truth
from .prior_files import LAYOUT, prior_path, read_prior_map, stem_of
from .region_tree import D_T, MAX_LEAVES, RegionTree
from .ucm import UCM_SCALE, read_ucm2, write_ucm2

__all__ = [
    'D_T', 'LAYOUT', 'MAX_LEAVES', 'RegionTree', 'UCM_SCALE', 'prior_path',
    'read_bsds_ground_truth', 'read_prior_map', 'read_ucm2', 'stem_of',
    'write_ucm2'
]
