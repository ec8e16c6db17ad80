# Hierarchical grouping (NeurIPS 2020, sec. 4.2): ResNet-50 (He et al., the 7x7
# stem: MMSeg `ResNet`) from random init with its strides unchanged (only
# Res2-Res4 are computed: Res5 feeds nothing), a hypercolumn neck (3x3 Conv-BN-
# ReLU to 256 channels on Res3 and Res4, both to 1/4 of the input,
# concatenated, 3x3 conv to 32 channels) and the pixel-pair contrast head (7
# anchors x 10 positives / 5 negatives per image, sigma_p 0.8, augmented
# references, cns 5, eq. 1).
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='HierarchicalGrouping',
    data_preprocessor=dict(
        type='RegionViewsDataPreProcessor',  # pads the tree distances too
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=3,
        out_indices=(1, 2),
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch'),
    neck=dict(
        type='HypercolumnNeck',
        in_channels=(512, 1024),
        in_index=(0, 1),
        in_strides=(8, 16),
        channels=256,
        out_channels=32,
        stride=4,
        norm_cfg=norm_cfg),
    head=dict(
        type='GroupingContrastHead',
        # eq. 1 as printed: the sum of p (form='log': -log p, see the loss)
        loss=dict(type='GroupingContrastLoss', form='prob', temperature=1.0)),
    num_anchors=7,
    num_pos=10,
    num_neg=5,
    sigma=0.8,
    cns=5,
    augmented=True)
