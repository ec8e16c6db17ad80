# This project's contour detector for the strict setting of hierarchical
# grouping (sec. 4.1): trained from random init on the 300 BSDS500 train + val
# images only (no ImageNet), a ResNetV1c-18 whose four stages feed a
# hypercolumn (each projected to 32 channels, all at 1/4, fused to 32) and a
# two-class FCN head (boundary vs not) with HED's class-balanced loss;
# annotator disagreement is ignored (LoadBSDSBoundaries). 4k iterations of
# batch 8 at 320x320 crops with SGD poly: about an hour on one GPU (or a CPU
# night); runs on a CPU at inference. Then:
#   python tools/priors/make_hierarchies.py OUT --images ... \
#       --edges contour_net --edge-config THIS --edge-checkpoint iter_4000.pth
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
bsds_root = '{{$BSDS_ROOT:data/bsds500}}'
crop_size = (320, 320)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=crop_size),
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        style='pytorch'),
    neck=dict(
        type='HypercolumnNeck',
        in_channels=(64, 128, 256, 512),
        in_index=(0, 1, 2, 3),
        in_strides=(4, 8, 16, 32),
        channels=32,
        out_channels=32,
        stride=4,
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='FCNHead',
        in_channels=32,
        in_index=0,
        channels=32,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='ClassBalancedBoundaryLoss')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBSDSBoundaries', eta=0.5),
    dict(type='RandomResize', scale=(481, 321), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBSDSBoundaries', eta=0.5),
    dict(type='PackSegInputs')
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(
                type='BSDSBoundaryDataset',
                data_root=bsds_root,
                data_prefix=dict(
                    img_path=f'images/{split}',
                    seg_map_path=f'groundTruth/{split}'),
                pipeline=train_pipeline) for split in ('train', 'val')
        ]))
# BSDS test stays unseen: the boundary benchmark runs on it
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
max_iters = 4000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=1e-4, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=1000,
        max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'))
