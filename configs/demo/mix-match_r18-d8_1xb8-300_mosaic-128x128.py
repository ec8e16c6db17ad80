# The mosaic regime's Mix-and-Match row (benchmark, 2 CPU cores): the
# paper's mix (10 patches per image, labelled by their centre pixel), its
# class-wise connected graph and triplet loss (margin 2.1), on the regime's
# shared backbone, ResNetV1c-18-D8 (the paper's VGG16 would need a VGG
# random-init row and positive control of its own, and its pool5 is 4x4 on a
# 128x128 mosaic). Whole 128x128 mosaics (resized x0.75-1.5, cropped,
# flipped), batch 8 (a graph of 80 nodes), patch sides 16-48 resized to 32
# (12-38 % of a side; the paper: 64-256 of 512, 12-50 %), every centre among
# all pixels (no background class in a mosaic), SGD lr 0.01, 300 iterations
# (x0.1 after 225). MOSAIC_ROOT moves the mosaics.
_base_ = [
    '../_base_/models/mix_match_vgg16.py',
    '../_base_/datasets/texture_mosaic.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mix_match_8k.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (128, 128)
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    sampler=dict(patches_per_image=10, min_size=16, max_size=48,
                 out_size=32, background_patches=0),
    data_preprocessor=dict(size=crop_size))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(128, 128), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
max_iters = 300
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[225], gamma=0.1)
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
# no validation loop during tuning
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
