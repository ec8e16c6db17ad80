# Stock MMSeg DeepLabV3 (ResNetV1c-18, dilated, output stride 8) on the
# Weizmann horses (background / horse) at the CamVid regime's resolution
# (112x112 crops of photographs fit to 160x120), batch 8, 250 iterations:
# the evaluation segmentor and positive control of the benchmark's horses
# regime. Random init by default; the protocols
# (tools/eval/label_fraction.py, linear_probe.py) load a pretrained backbone.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    '../_base_/datasets/weizmann_horse.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mini_cpu.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (112, 112)
norm_cfg = dict(type='BN', requires_grad=True)  # one process, no SyncBN
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=512, channels=128, num_classes=2, norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=256, channels=64, num_classes=2, norm_cfg=norm_cfg))
max_iters = 250
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
