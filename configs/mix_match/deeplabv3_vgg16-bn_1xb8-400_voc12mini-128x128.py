# The stock route: MMSeg's DeepLabV3 ASPP head on the VGG16-BN backbone
# (pool5, output stride 32), for M&M weights through the converter
# (extract_pretrained.py --target THIS_CONFIG), voc12_mini at 128x128.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    '../_base_/datasets/voc12_mini.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mini_cpu.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VGG',
        depth=16,
        norm_cfg=norm_cfg,
        out_indices=(3, 4),
        with_last_pool=True),
    decode_head=dict(
        in_channels=512, in_index=1, channels=128, dilations=(1, 2, 3, 4),
        num_classes=21, norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=512, in_index=0, channels=64, num_classes=21,
        norm_cfg=norm_cfg))
