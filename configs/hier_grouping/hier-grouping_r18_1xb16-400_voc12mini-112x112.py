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
    '../_base_/schedules/mini_cpu.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    # the deep-stem ResNetV1c-18 of the suite's evaluation segmentors (the
    # paper config takes He et al.'s 7x7 stem)
    backbone=dict(type='ResNetV1c', depth=18, norm_cfg=norm_cfg),
    neck=dict(in_channels=(128, 256), channels=128, norm_cfg=norm_cfg))
max_iters = 400
optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[300], gamma=0.1)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters // 4, max_keep_ckpts=2))
val_cfg = None
test_cfg = None
