# Stock MMSeg PSPNet (ResNetV1c-18, dilated, output stride 8) fine-tuned on
# voc12_mini at 128x128 crops: the CPU-sized counterpart of
# pspnet_r50-d8_4xb4-20k_voc12aug-512x512.py. Random init by default; see that
# config for loading a pretrained backbone and training on a label fraction.
_base_ = [
    'mmseg::_base_/models/pspnet_r50-d8.py',
    '../_base_/datasets/voc12_mini.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mini_cpu.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)  # one process, no SyncBN
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=512, channels=128, num_classes=21, norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=256, channels=64, num_classes=21, norm_cfg=norm_cfg))
