# Quick-start positive control: stock DeepLabV3-R18-D8 trained on all labels
# of the texture mosaics (the supervised stand-in beside the self-supervised
# method), 64x64 crops, 240 iterations (about 70 s on 2 CPU cores).
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    '../_base_/datasets/texture_mosaic.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mini_cpu.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (64, 64)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=512, channels=128, num_classes=6, norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=256, channels=64, num_classes=6, norm_cfg=norm_cfg))
max_iters = 240
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
