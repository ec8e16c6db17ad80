# Quick-start stage 1: hierarchical grouping (no labels) on the texture
# mosaics: the mini method (ResNetV1c-18 hypercolumn of Res3 + Res4, pixel
# pairs by region-tree distance, eq. 1) on the train images' region trees
# (make_hierarchies.py's defaults: the packaged structured edge forest +
# sPb, OWT-UCM; tools/demo.py makes them), 64x64 views, batch 16, Adam lr
# 1e-3, 300 iterations (x0.1 after 225); the demo and the mosaic suite run
# it for 1412 (--max-iters scales the milestone).
# MOSAIC_ROOT and HIERARCHY_DIR move the folders.
_base_ = ['../hier_grouping/hier-grouping_r18_1xb16-400_voc12mini-112x112.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
mosaic_root = '{{$MOSAIC_ROOT:work_dirs/demo/texture_mosaics}}'
hierarchy_dir = '{{$HIERARCHY_DIR:work_dirs/demo/hierarchies}}'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRegionHierarchy', root=hierarchy_dir,
         d_t={{_base_.d_t}}),
    dict(
        type='RegionViews',
        size=64,
        num_views=2,
        scale=(0.2, 1.0),
        flip_prob=0.5,
        photometric={{_base_.photometric}}),
    dict(type='PackRegionViews'),
]
# What the quick-start measured (docs/quickstart.md), kept until it is run
# again: the deep-stem ResNetV1c-18 of its PSPNet-R18 (the method configs
# take the paper's 7x7-stem ResNet) and eq. 1 in its log form (the method
# configs take the printed form, 'prob')
model = dict(
    backbone=dict(type='ResNetV1c'),
    head=dict(loss=dict(form='log')))
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path=mosaic_root + '/images/train'),
        ann_file=hierarchy_dir + '/ids.txt',
        pipeline=train_pipeline))
max_iters = 300
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[225], gamma=0.1)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
