# Frozen-feature evaluation of hierarchical grouping (sec. 4.2): the
# pretrained ResNet-50 + hypercolumn neck frozen (BN in eval mode), a new
# DeepLabV3 ASPP head on the 32-d embedding trained on VOC train_aug with
# SGD lr 0.03, momentum 0.9, wd 5e-4, 20k iterations, batch 20, 384x384
# crops, x0.1 at 10k and 15k. Load the pretraining with
#   python tools/model_converters/extract_pretrained.py PRETRAIN.pth OUT.pth \
#       --target THIS_CONFIG --parts backbone neck
#   python tools/eval/label_fraction.py THIS_CONFIG OUT.pth \
#       --parts backbone neck --fractions 100 --seeds 0
_base_ = [
    '../_base_/models/hypercolumn_aspp_frozen_r50.py',
    '../_base_/datasets/voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (384, 384)
model = dict(data_preprocessor=dict(size=crop_size))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(batch_size=20, dataset=dict(pipeline=train_pipeline))
max_iters = 20000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[10000, 15000],
         gamma=0.1)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
