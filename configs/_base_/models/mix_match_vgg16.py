# Mix-and-Match tuning (AAAI 2018) of a VGG16 with batch norm: the paper's 10
# patches per image placed as the authors' sampler does (9 centred on
# foreground, 1 on background, even sides 64-256 at 512 crops, skipped when
# the kept ones cover > 60 % of the first candidate's area, then topped up),
# resized to 128, pool5 features, class-wise connected graph, eq. 1 as
# printed: Euclidean distances of unit vectors, margin 2.1, mean over the
# triplets (the authors' code: squared=True, halve=True).
model = dict(
    type='MixMatch',
    backbone=dict(
        type='mmpretrain.VGG',
        depth=16,
        norm_cfg=dict(type='BN'),
        out_indices=(4, ),
        with_last_pool=True),
    sampler=dict(
        patches_per_image=10,
        min_size=64,
        max_size=256,
        out_size=128,
        max_overlap=0.6,
        background_patches=1,
        background_index=0),
    triplets='class_connected',
    head=dict(
        type='TripletHead',
        loss=dict(
            type='TripletRankingLoss', margin=2.1, squared=False,
            halve=False)),
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(512, 512)))
