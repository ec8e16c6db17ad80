import os.path as osp

from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class VOCAugDataset(PascalVOCDataset):
    """PASCAL VOC 2012 with the SBD labels ("train_aug", 10 582 images) as one
    dataset, so that one id list (``trainaug.txt`` or a label-fraction split of
    it) selects the images.

    MMSeg's ``voc_aug.py`` converter writes the SBD labels to
    ``SegmentationClassAug``; the VOC train images that SBD lacks keep their
    labels in ``SegmentationClass``. Each id takes its label from
    ``seg_map_path`` and falls back to ``fallback_seg_map_path``.

    Args:
        ann_file: Id list, e.g. ``ImageSets/Segmentation/trainaug.txt``.
        fallback_seg_map_path: Label folder (relative to ``data_root``) for
            ids without a label under ``data_prefix['seg_map_path']``.
    """

    def __init__(self,
                 ann_file: str,
                 fallback_seg_map_path: str = 'SegmentationClass',
                 **kwargs) -> None:
        self.fallback_seg_map_path = fallback_seg_map_path
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> list:
        data_list = super().load_data_list()
        fallback = osp.join(self.data_root or '', self.fallback_seg_map_path)
        for info in data_list:
            if osp.isfile(info['seg_map_path']):
                continue
            alternative = osp.join(fallback,
                                   osp.basename(info['seg_map_path']))
            if not osp.isfile(alternative):
                raise FileNotFoundError(
                    f'no label for {info["img_path"]}: neither '
                    f'{info["seg_map_path"]} nor {alternative} exists')
            info['seg_map_path'] = alternative
        return data_list
