# The paper-scale data base on the 330 voc12_mini train images: 96x96 views,
# an infinite sampler for iteration-based CPU runs, 2 workers.
# VOC12_MINI_ROOT and SALIENCY_DIR move the folders.
_base_ = ['./mask_contrast_voc12aug.py']
voc_root = '{{$VOC12_MINI_ROOT:data/voc12_mini/VOCdevkit/VOC2012}}'
saliency_dir = '{{$SALIENCY_DIR:work_dirs/mask_contrast/voc12mini/saliency}}'
views = dict(size=96)  # for configs that inherit this and reuse views
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSaliencyMask', root=saliency_dir),
    dict(
        type='SaliencyViews',
        size=96,
        num_views=2,
        scale=(0.2, 1.0),
        min_area=0.1,
        max_area=1.0,
        photometric={{_base_.photometric}}),
    dict(type='PackSaliencyViews'),
]
train_dataloader = dict(
    num_workers=2,
    sampler=dict(type='InfiniteSampler'),
    dataset=dict(
        data_prefix=dict(img_path=voc_root + '/JPEGImages'),
        ann_file=saliency_dir + '/kept_train.txt',
        pipeline=train_pipeline))
