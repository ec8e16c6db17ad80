# Auxiliary-label contrast with PSPNet (dilated ResNet-50): as the DeepLabV3
# variant, with MMSeg's pyramid pooling head producing the 128-d embedding.
_base_ = ['./aux_contrast_deeplabv3_r50-d8.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='PSPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.0,
        num_classes=128,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss')))
