# Unlabelled VOC 2012 train_aug images (10 582) with their salient-object
# masks (make_saliency.py --data output: masks/ and kept_train.txt), two views
# each. SALIENCY_DIR and VOC12_ROOT move the folders.
_base_ = ['./maskcontrast_voc12mini.py']
voc_root = '{{$VOC12_ROOT:data/VOCdevkit/VOC2012}}'
saliency_dir = '{{$SALIENCY_DIR:work_dirs/maskcontrast/voc12aug/saliency}}'
views = dict(
    type='SaliencyViews',
    size=224,
    num_views=2,
    scale=(0.2, 1.0),
    min_area=0.1,
    max_area=1.0,
    photometric={{_base_.photometric}})
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSaliencyMask', root=saliency_dir),
    views,
    dict(type='PackSaliencyViews'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        data_prefix=dict(img_path=voc_root + '/JPEGImages'),
        ann_file=saliency_dir + '/kept_train.txt',
        pipeline=train_pipeline))
