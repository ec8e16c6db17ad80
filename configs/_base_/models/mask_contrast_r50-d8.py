# MaskContrast (ICCV 2021): dilated ResNet-50 with the 7x7 stem of
# torchvision / MoCo v2 (MMSeg `ResNet`, i.e. ResNetV1b, so a MoCo v2
# checkpoint loads with no gap) + the DeepLab-v3 head of the authors' code
# (ASPP at 256 channels, 1x1 projection with dropout 0.5, 3x3 layer), whose
# last 1x1 conv gives a 32-d embedding and a saliency logit (supplement C), a
# momentum key encoder (m = 0.999, MomentumUpdateHook) and a queue of 128 key
# prototypes; tau = 0.5. The key encoder has the same norm layers (SyncBN in
# multi-GPU runs: batch statistics over the global batch, what the authors'
# shuffle-BN protects).
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='MaskContrast',
    backbone=dict(
        type='ResNet',
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
        type='DeepLabV3Head',
        in_channels=2048,
        in_index=3,
        channels=256,
        dilations=(1, 12, 24, 36),
        project_dropout=0.5,
        dropout_ratio=0.0,
        num_classes=33,  # embed_dim + 1: the embedding and the saliency
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss')),  # not used
    head=dict(
        type='MaskContrastHead',
        loss_contrast=dict(
            type='MaskContrastLoss', temperature=0.5, balance_images=False),
        loss_saliency=dict(type='SaliencyBCELoss', balanced=False)),
    embed_dim=32,
    queue_size=128,
    momentum=0.999,
    upsample=True,
    data_preprocessor=dict(
        type='mmpretrain.SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
custom_hooks = [dict(type='MomentumUpdateHook')]  # m: the model's momentum
