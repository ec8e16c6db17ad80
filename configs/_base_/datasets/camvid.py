# CamVid (data/camvid, SegNet's preparation: 367 train / 101 val street
# scenes of 480x360, 11 classes, 255 unlabelled) at a third of its
# resolution: 160x120 images, 112x112 crops, so that 2 CPU cores learn from
# it (issue 56: a stock DeepLabV3-R18-D8 probe goes from 14.5 val mIoU at
# random init to 24.6 after 250 supervised iterations). Predictions are
# scored at the original 480x360. CAMVID_ROOT moves the folder.
dataset_type = 'CamVidDataset'
data_root = '{{$CAMVID_ROOT:data/camvid}}'
crop_size = (112, 112)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(160, 120),
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(160, 120), keep_ratio=True),
    # annotations after Resize: metrics compare at the original size
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/train', seg_map_path='labels/train'),
        ann_file='train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/val', seg_map_path='labels/val'),
        ann_file='val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
