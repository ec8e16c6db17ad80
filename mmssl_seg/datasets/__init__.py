from . import transforms  # noqa: F401
from .bsds import BSDSBoundaryDataset
from .camvid import CamVidDataset
from .nyuv2 import NYUv2SegDataset
from .texture_mosaic import TextureMosaicDataset, build_texture_mosaics
from .unlabelled import UnlabelledImageDataset
from .voc_aug import VOCAugDataset
from .weizmann_horse import WeizmannHorseDataset, build_weizmann_horses

__all__ = [
    'BSDSBoundaryDataset', 'CamVidDataset', 'NYUv2SegDataset',
    'TextureMosaicDataset', 'UnlabelledImageDataset', 'VOCAugDataset',
    'WeizmannHorseDataset', 'build_texture_mosaics', 'build_weizmann_horses'
]
