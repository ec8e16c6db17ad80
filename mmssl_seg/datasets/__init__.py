from . import transforms  # noqa: F401
from .bsds import BSDSBoundaryDataset
from .camvid import CamVidDataset
from .nyuv2 import NYUv2SegDataset
from .texture_mosaic import TextureMosaicDataset, build_texture_mosaics
from .unlabelled import UnlabelledImageDataset
from .voc_aug import VOCAugDataset

__all__ = [
    'BSDSBoundaryDataset', 'CamVidDataset', 'NYUv2SegDataset',
    'TextureMosaicDataset', 'UnlabelledImageDataset', 'VOCAugDataset',
    'build_texture_mosaics'
]
