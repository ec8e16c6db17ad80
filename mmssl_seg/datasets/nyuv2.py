from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class NYUv2SegDataset(BaseSegDataset):
    """NYU Depth v2 semantic segmentation with the 40 classes of Gupta et al.
    (795 train / 654 test labelled images). MMSeg's ``NYUDataset`` is for
    depth; this one reads label maps with 0 = unlabelled and 1..40 the
    classes, hence ``reduce_zero_label=True``.

    Expected layout under ``data_root``: ``images/{train,test}/*.jpg`` and
    ``annotations/{train,test}/*.png``.
    """
    METAINFO = dict(
        classes=('wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table',
                 'door', 'window', 'bookshelf', 'picture', 'counter',
                 'blinds', 'desk', 'shelves', 'curtain', 'dresser', 'pillow',
                 'mirror', 'floor mat', 'clothes', 'ceiling', 'books',
                 'refrigerator', 'television', 'paper', 'towel',
                 'shower curtain', 'box', 'whiteboard', 'person',
                 'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag',
                 'otherstructure', 'otherfurniture', 'otherprop'),
        palette=[[(37 * i) % 256, (97 * i) % 256, (157 * i) % 256]
                 for i in range(1, 41)])

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = True,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)
