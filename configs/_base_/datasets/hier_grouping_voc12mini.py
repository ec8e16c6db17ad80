# The paper-scale data base on the 330 voc12_mini train images and their
# region trees (make_hierarchies.py output: trees/ and ids.txt): 112x112
# views, an infinite sampler for iteration-based CPU runs, 2 workers.
# VOC12_MINI_ROOT and HIERARCHY_DIR move the folders.
_base_ = ['./hier_grouping_voc12aug_coco.py']
voc_root = '{{$VOC12_MINI_ROOT:data/voc12_mini/VOCdevkit/VOC2012}}'
# (mmengine substitutes an environment variable only within one line)
hierarchy_dir = '{{$HIERARCHY_DIR:work_dirs/hier_grouping/voc12mini/hierarchies}}'  # noqa: E501
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
    batch_size=16,
    num_workers=2,
    sampler=dict(type='InfiniteSampler'),
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        data_root='',
        data_prefix=dict(img_path=voc_root + '/JPEGImages'),
        ann_file=hierarchy_dir + '/ids.txt',
        img_suffix='.jpg',
        pipeline=train_pipeline))
