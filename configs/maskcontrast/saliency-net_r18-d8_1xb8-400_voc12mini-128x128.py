# Bootstrapping of the unsupervised saliency (MaskContrast sec. 4.1, after
# DeepUSPS): stock DeepLabV3-R18-D8 with two classes trained from random init
# on the hand-crafted masks of the target images (SALIENCY_STAGE1: a
# make_saliency.py --method rbd folder); then
#   make_saliency.py OUT --method network --network-config THIS_CONFIG
#       --network-checkpoint WORK_DIR/iter_400.pth
# predicts the final masks.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mini_cpu.py',
]
voc_root = '{{$VOC12_MINI_ROOT:../shared/data/voc12_mini/VOCdevkit/VOC2012}}'
stage1 = '{{$SALIENCY_STAGE1:work_dirs/maskcontrast/voc12mini/saliency_rbd}}'
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=512, channels=128, num_classes=2, norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=256, channels=64, num_classes=2, norm_cfg=norm_cfg))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='LoadSaliencyMask', mask_root=stage1 + '/masks',
        as_seg_map=True),
    dict(
        type='RandomResize',
        scale=(512, 128),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# what make_saliency.py --method network runs on every image
saliency_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(512, 128), keep_ratio=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='BaseSegDataset',
        metainfo=dict(
            classes=('background', 'salient'),
            palette=[[0, 0, 0], [255, 255, 255]]),
        data_root='',
        data_prefix=dict(img_path=voc_root + '/JPEGImages'),
        ann_file=stage1 + '/kept.txt',
        img_suffix='.jpg',
        pipeline=train_pipeline))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
