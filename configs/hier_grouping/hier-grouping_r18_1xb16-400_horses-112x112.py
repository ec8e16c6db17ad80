# Hierarchical grouping at mini scale on the Weizmann horses (the suite's
# horses regime, 2 CPU cores): the CamVid regime's method (ResNetV1c-18
# hypercolumn of Res3 + Res4, eq. 1 as printed, 112x112 views, batch 16, Adam
# lr 1e-3, 400 iterations, x0.1 after 300) on the 180 train photographs and
# their region trees (make_hierarchies.py's defaults: the packaged structured
# edge forest + sPb, OWT-UCM). HORSE_ROOT and HIERARCHY_DIR move the
# folders.
_base_ = ['./hier-grouping_r18_1xb16-400_camvid-112x112.py']
horse_root = '{{$HORSE_ROOT:data/weizmann_horse_seg}}'
hierarchy_dir = '{{$HIERARCHY_DIR:work_dirs/hier_grouping/horses/hierarchies}}'  # noqa: E501
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRegionHierarchy', root=hierarchy_dir,
         d_t={{_base_.d_t}}),
    dict(
        type='RegionViews',
        size=112,
        num_views=2,
        scale=(0.2, 1.0),
        flip_prob=0.5,
        photometric={{_base_.photometric}}),
    dict(type='PackRegionViews'),
]
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path=horse_root + '/images/train'),
        ann_file=hierarchy_dir + '/ids.txt',
        pipeline=train_pipeline))
