# Unlabelled VOC 2012 train_aug images (10 582) with their salient-object
# masks (tools/priors/make_saliency.py --data ... output: masks/ and
# kept_train.txt); two views each (SimCLR augmentations, views keep >= 10 %
# salient area). Paths are relative to the working directory; VOC12_ROOT and
# SALIENCY_DIR move them.
voc_root = '{{$VOC12_ROOT:data/VOCdevkit/VOC2012}}'
saliency_dir = '{{$SALIENCY_DIR:work_dirs/mask_contrast/voc12aug/saliency}}'
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
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.299)),  # BT.601, BGR order
]
views = dict(
    type='SaliencyViews',
    size=224,
    num_views=2,
    scale=(0.2, 1.0),
    min_area=0.1,  # the paper; the authors' code: 0.01 .. 0.99
    max_area=1.0,
    photometric=photometric)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSaliencyMask', root=saliency_dir),
    views,
    dict(type='PackSaliencyViews'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='BaseSegDataset',
        data_root='',
        data_prefix=dict(img_path=voc_root + '/JPEGImages'),
        ann_file=saliency_dir + '/kept_train.txt',
        img_suffix='.jpg',
        pipeline=train_pipeline))
