# The paper's pretraining images (sec. 4.1): VOC 2012 train_aug (10 582) and
# COCO 2014 train (~83k), unlabelled, with region trees from
# tools/priors/make_hierarchies.py for both in one folder (stems do not
# collide); two 224x224 views each: random resized crops, flips and colour
# jitter (sec. 4.2). Paths are relative to the working directory; VOC12_ROOT,
# COCO_ROOT and HIERARCHY_DIR move them.
voc_root = '{{$VOC12_ROOT:data/VOCdevkit/VOC2012}}'
coco_root = '{{$COCO_ROOT:data/coco}}'
# (mmengine substitutes an environment variable only within one line)
hierarchy_dir = '{{$HIERARCHY_DIR:work_dirs/hier_grouping/voc12aug_coco/hierarchies}}'  # noqa: E501
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
        size=224,
        num_views=2,
        scale=(0.2, 1.0),
        flip_prob=0.5,
        photometric=photometric),
    dict(type='PackRegionViews'),
]
train_dataloader = dict(
    batch_size=70,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(
                type='BaseSegDataset',
                data_root='',
                data_prefix=dict(img_path=voc_root + '/JPEGImages'),
                ann_file=voc_root + '/ImageSets/Segmentation/trainaug.txt',
                img_suffix='.jpg',
                pipeline=train_pipeline),
            dict(
                type='BaseSegDataset',
                data_root='',
                data_prefix=dict(img_path=coco_root + '/train2014'),
                ann_file=coco_root + '/train2014_ids.txt',
                img_suffix='.jpg',
                pipeline=train_pipeline),
        ]))
