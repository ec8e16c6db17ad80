# Auxiliary-label contrast at mini scale for 2 CPU cores: DeepLabV3 with
# ResNetV1c-18-D8 from random init on the 330 voc12_mini train images and
# their auxiliary labels (AUX_LABELS: a make_aux_labels.py folder), 128x128
# crops, batch 8, 300 iterations, 2000 anchors, 2000 batch + 4000 bank
# candidates (32 pixels per image pushed), SGD lr 0.02 poly, key-encoder
# momentum 0.99. See README.md for the commands from auxiliary labels to
# evaluation.
_base_ = [
    '../_base_/models/aux_contrast_deeplabv3_r50-d8.py',
    '../_base_/datasets/aux_contrast.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mini_cpu.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
voc_root = '{{$VOC12_MINI_ROOT:data/voc12_mini/VOCdevkit/VOC2012}}'
aux_labels = '{{$AUX_LABELS:work_dirs/aux_contrast/voc12mini/aux_labels}}'
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=512, channels=128, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=64, norm_cfg=norm_cfg),
    num_anchors=2000,
    num_batch_candidates=2000,
    bank_size=4000,
    bank_per_image=32,
    # MoCo's 0.999 is for 10^5-10^6 iterations; after a few hundred it
    # leaves the key encoder that makes every candidate mostly random init
    # (0.999^774 = 46 %). Measured on the mosaics (README): 0.99 lifts the
    # oracle labels' linear probe from 66.4 to 69.7.
    momentum=0.99)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAuxLabels', root=aux_labels),
    dict(type='RandomResize', scale=(512, 128), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomRotate', prob=0.5, degree=15, pad_val=0,
         seg_pad_val=255),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomApply',
        transforms=[
            dict(type='mmpretrain.ColorJitter', brightness=0.4,
                 contrast=0.4, saturation=0.4, hue=0.1)
        ],
        prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.299)),
    dict(type='MeanCutOut', prob=0.5, ratio=(0.1, 0.3)),
    dict(type='PackAuxLabelInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_prefix=dict(img_path=voc_root + '/JPEGImages'),
        ann_file=voc_root + '/ImageSets/Segmentation/train.txt',
        img_suffix='.jpg',
        pipeline=train_pipeline))
max_iters = 300
optim_wrapper = dict(optimizer=dict(lr=0.02, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters // 4,
                                     max_keep_ckpts=2))
val_cfg = None
test_cfg = None
