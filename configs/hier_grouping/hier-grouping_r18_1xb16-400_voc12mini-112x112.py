# Hierarchical grouping at mini scale for 2 CPU cores: ResNetV1c-18
# hypercolumn (Res3 128 + Res4 256 channels, projected to 128 each, -> 32-d
# at 1/4) from random init on the 330 voc12_mini train images, 112x112
# views, batch 16, Adam
# lr 1e-3 (the paper's 1e-2 is for batch 70; not tuned here), x0.1 after
# 300 of 400 iterations. See README.md for the commands from region trees
# to evaluation.
_base_ = [
    '../_base_/models/hier_grouping_r50.py',
    '../_base_/datasets/hier_grouping_voc12mini.py',
    'mmseg::_base_/default_runtime.py',
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    neck=dict(in_channels=(128, 256), channels=128, norm_cfg=norm_cfg))
max_iters = 400
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[300], gamma=0.1)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=max_iters // 4,
        max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
