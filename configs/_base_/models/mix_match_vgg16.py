# Mix-and-Match tuning (AAAI 2018) of a VGG16 with batch norm: 10 patches per
# image as the authors' sampler (9 centred on foreground, 1 on background,
# even sides 64-256 at 512 crops, at most 60 % covered by earlier ones, then
# topped up to 10), resized to 128, pool5 features, class-wise connected
# graph, triplet loss with margin 2.1 (squared distances and the sum over 2N,
# as the authors' code).
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
            type='TripletRankingLoss', margin=2.1, squared=True,
            halve=True)),
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(512, 512)))
