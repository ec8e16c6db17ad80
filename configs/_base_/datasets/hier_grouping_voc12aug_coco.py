# The paper's pretraining images (sec. 4.1): VOC 2012 train_aug (10 582) and
# COCO 2014 train (~83k), unlabelled, with region trees from
# make_hierarchies.py for both in one folder (stems do not collide), 224x224
# views. VOC12_ROOT, COCO_ROOT and HIERARCHY_DIR move the folders.
_base_ = ['./hier_grouping_voc12mini.py']
voc_root = '{{$VOC12_ROOT:data/VOCdevkit/VOC2012}}'
coco_root = '{{$COCO_ROOT:data/coco}}'
hierarchy_dir = '{{$HIERARCHY_DIR:work_dirs/hier_grouping/voc12aug_coco/hierarchies}}'
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRegionHierarchy', root=hierarchy_dir, d_t={{_base_.d_t}}),
    dict(
        type='RegionViews',
        size=224,
        num_views=2,
        scale=(0.2, 1.0),
        flip_prob=0.5,
        photometric={{_base_.photometric}}),
    dict(type='PackRegionViews'),
]
train_dataloader = dict(
    batch_size=70,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type='BaseSegDataset',
                data_root='',
                data_prefix=dict(img_path=voc_root + '/JPEGImages'),
                ann_file=voc_root + '/ImageSets/Segmentation/trainaug.txt',
                img_suffix='.jpg',
                pipeline=pipeline),
            dict(
                type='BaseSegDataset',
                data_root='',
                data_prefix=dict(img_path=coco_root + '/train2014'),
                ann_file=coco_root + '/train2014_ids.txt',
                img_suffix='.jpg',
                pipeline=pipeline),
        ]))
