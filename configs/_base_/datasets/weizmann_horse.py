# Weizmann horses (228 side-view photographs, one horse each; 180 train /
# 48 val, the split listed in mmssl_seg/datasets/splits) in MMSeg's layout,
# written by
#   python tools/dataset_converters/weizmann_horse.py data/weizmann_horse \
#       data/weizmann_horse_seg
# 2 classes (background, horse). Photographs are resized to fit 160 x 120
# (most are 4:3) and trained on 112 x 112 crops, the CamVid regime's
# resolution, so that 2 CPU cores learn; predictions are scored at each
# photograph's own size. HORSE_ROOT moves the folder.
dataset_type = 'WeizmannHorseDataset'
data_root = '{{$HORSE_ROOT:data/weizmann_horse_seg}}'
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
        data_prefix=dict(
            img_path='images/train', seg_map_path='annotations/train'),
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
        data_prefix=dict(
            img_path='images/val', seg_map_path='annotations/val'),
        ann_file='val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
