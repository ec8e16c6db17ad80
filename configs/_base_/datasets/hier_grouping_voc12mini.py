# Unlabelled voc12_mini train images with their region trees
# (tools/priors/make_hierarchies.py output: trees/ and ids.txt), two views
# each: random resized crops, flips and colour jitter (sec. 4.2). Paths are
# relative to the working directory; HIERARCHY_DIR and VOC12_MINI_ROOT move
# them.
voc_root = '{{$VOC12_MINI_ROOT:../shared/data/voc12_mini/VOCdevkit/VOC2012}}'
hierarchy_dir = '{{$HIERARCHY_DIR:work_dirs/hier_grouping/voc12mini/hierarchies}}'
view_size = 112
# d_T of eqs. 2-3: 'level' (the level at which two regions merge, Fig. 1)
# or 'altitude' (the UCM boundary strength there); see RegionTree
d_t = 'level'
photometric = [
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='mmpretrain.ColorJitter',
                brightness=0.4,
                contrast=0.4,
                saturation=0.4,
                hue=0.1)
        ],
        prob=0.8),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRegionHierarchy', root=hierarchy_dir, d_t=d_t),
    dict(
        type='RegionViews',
        size=view_size,
        num_views=2,
        scale=(0.2, 1.0),
        flip_prob=0.5,
        photometric=photometric),
    dict(type='PackRegionViews'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='BaseSegDataset',
        data_root='',
        data_prefix=dict(img_path=voc_root + '/JPEGImages'),
        ann_file=hierarchy_dir + '/ids.txt',
        img_suffix='.jpg',
        pipeline=train_pipeline))
