# VGG16-BN with a hypercolumn head on all five stages (Hariharan et al.;
# Larsson et al. 2017 on VGG16); 1000 training pixels per image for the loss;
# batch norm before pool5 keeps training.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(512, 512)),
    backbone=dict(
        type='mmpretrain.VGG',
        depth=16,
        norm_cfg=norm_cfg,
        out_indices=(0, 1, 2, 3, 4),
        with_last_pool=True,
        norm_eval=False),
    decode_head=dict(
        type='HypercolumnHead',
        in_channels=[64, 128, 256, 512, 512],
        in_index=[0, 1, 2, 3, 4],
        channels=1024,
        num_convs=1,
        num_points=1000,
        dropout_ratio=0.0,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
