# The frozen-feature ASPP evaluation at mini scale (2 CPU cores): the R18
# hypercolumn of hier-grouping_r18_1xb16-400_voc12mini-112x112.py frozen,
# an ASPP head trained on voc12_mini train at 128x128 crops, batch 8, SGD
# lr 0.03 / wd 5e-4, 400 iterations, x0.1 at 200 and 300 (the paper's
# 20k / 10k / 15k scaled down).
_base_ = [
    '../_base_/models/hypercolumn_aspp_frozen_r50.py',
    '../_base_/datasets/voc12_mini.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mini_cpu.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    # the deep-stem ResNetV1c-18 of the suite's evaluation segmentors (the
    # paper config takes He et al.'s 7x7 stem)
    backbone=dict(type='ResNetV1c', depth=18, norm_cfg=norm_cfg),
    neck=dict(in_channels=(128, 256), channels=128, norm_cfg=norm_cfg),
    decode_head=dict(channels=64, norm_cfg=norm_cfg))
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[200, 300],
         gamma=0.1)
]
