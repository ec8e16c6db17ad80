# PASCAL VOC 2012 + SBD ("train_aug", 10 582 images) at paper scale, 512x512
# crops, as one dataset (see VOCAugDataset) so that label-fraction splits of
# trainaug.txt work as ann_file. Prepare data/VOCdevkit with MMSeg's
# tools/dataset_converters/voc_aug.py (writes SegmentationClassAug and
# ImageSets/Segmentation/trainaug.txt). VOC12_ROOT overrides the folder.
_base_ = 'mmseg::_base_/datasets/pascal_voc12.py'
data_root = '{{$VOC12_ROOT:data/VOCdevkit/VOC2012}}'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='VOCAugDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
        fallback_seg_map_path='SegmentationClass',
        ann_file='ImageSets/Segmentation/trainaug.txt',
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
