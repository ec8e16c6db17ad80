# Frozen-feature evaluation model of hierarchical grouping (sec. 4.2): the
# pretrained ResNet-50 (Res2-Res4) + hypercolumn neck frozen (no gradients,
# BN in eval mode) and a new DeepLabV3 ASPP head on the 32-d embedding.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(384, 384)),
    pretrained=None,
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=3,
        out_indices=(1, 2),
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        frozen_stages=3,
        norm_cfg=norm_cfg,
        norm_eval=True,
        style='pytorch'),
    neck=dict(
        type='HypercolumnNeck',
        in_channels=(512, 1024),
        in_index=(0, 1),
        in_strides=(8, 16),
        channels=256,
        out_channels=32,
        stride=4,
        norm_cfg=norm_cfg,
        frozen=True),
    decode_head=dict(
        type='ASPPHead',
        in_channels=32,
        in_index=0,
        channels=256,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
