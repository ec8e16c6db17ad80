# The authors' hypercolumn fine-tuning network (finetune_seg.prototxt, after
# Larsson et al. 2017; the paper: "we follow Larsson et al."): VGG16-BN plus
# fc6 (7x7, 4096), fc7 (1x1, 4096) and two added 3x3 blocks (1024, pooled),
# whose 18 maps (the input, 13 convolutions, fc6, fc7, both added blocks:
# 14467 channels) form each pixel's hypercolumn; one hidden layer of 1024
# (no norm) and the classifier; the loss on 256 pixels per crop drawn in
# [96, 416) of 512; batch norm before pool5 keeps training.
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
        type='HypercolumnVGG',
        depth=16,
        norm_cfg=norm_cfg,
        norm_eval=False),
    decode_head=dict(
        type='HypercolumnHead',
        in_channels=[3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512,
                     512, 512, 4096, 4096, 1024, 1024],
        in_index=list(range(18)),
        channels=1024,
        num_convs=1,
        num_points=256,
        point_margin=96,
        dropout_ratio=0.0,
        num_classes=21,
        norm_cfg=None,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
