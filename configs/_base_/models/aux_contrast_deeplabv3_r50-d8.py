# Auxiliary-label contrast (NeurIPS 2021): DeepLabV3 with a dilated ResNet-50
# whose classifiers output 128-d embeddings at 1/8 (decode head; FCN auxiliary
# head on stage 3 for the mid-level contrastive loss), 10k anchors, 10k batch +
# 30k memory-bank candidates, momentum encoder (MomentumUpdateHook), tau 0.07,
# confidence weights (10, 4, 1), losses at 1/8 and full resolution.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='AuxLabelContrast',
    data_preprocessor=dict(
        type='AuxLabelDataPreProcessor',  # pads superpixels too
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(321, 361)),
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='ASPPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.0,
        num_classes=128,  # the embedding: embed_dim
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss')),  # not used
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=128,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss')),  # not used
    embed_dim=128,
    num_anchors=10000,
    num_batch_candidates=10000,
    bank_size=30000,
    bank_per_image=78,  # 384 frames in the bank, as the paper
    momentum=0.999,
    full_resolution=True,
    aux_weight=0.4,
    head=dict(
        type='AuxContrastHead',
        loss=dict(
            type='AuxLabelContrastLoss',
            temperature=0.07,
            weights=(10.0, 4.0, 1.0),
            # anchor chunks of what 1 GiB holds against every candidate
            # (about 1300 of 10k anchors x 40k candidates: 8 chunks)
            chunk_size=None,
            memory_mb=1024)))
custom_hooks = [dict(type='MomentumUpdateHook')]  # m: the model's momentum
