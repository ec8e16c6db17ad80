# Quick-start alternative, measured against hierarchical grouping (README):
# auxiliary-label contrast (no labels) on the texture mosaics, DeepLabV3-R18-D8
# from random init, auxiliary labels of make_aux_labels.py (AUX_LABELS), the
# mini method's settings at 64x64 crops (1000 anchors, 1000 batch + 2000 bank
# candidates), batch 8, 300 iterations.
_base_ = [
    '../aux_contrast/'
    'aux-contrast_deeplabv3_r18-d8_1xb8-300_voc12mini-128x128.py'
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
mosaic_root = '{{$MOSAIC_ROOT:work_dirs/demo/texture_mosaics}}'
aux_labels = '{{$AUX_LABELS:work_dirs/demo/aux_labels}}'
crop_size = (64, 64)
model = dict(data_preprocessor=dict(size=crop_size), num_anchors=1000,
             num_batch_candidates=1000, bank_size=2000, bank_per_image=16)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAuxLabels', root=aux_labels),
    dict(type='RandomResize', scale=(128, 128), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomRotate', prob=0.5, degree=15, pad_val=0,
         seg_pad_val=255),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomApply',
        transforms=[
            dict(type='mmpretrain.ColorJitter', brightness=0.4,
                 contrast=0.4, saturation=0.4, hue=0.1)
        ],
        prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.299)),
    dict(type='MeanCutOut', prob=0.5, ratio=(0.1, 0.3)),
    dict(type='PackAuxLabelInputs'),
]
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path=mosaic_root + '/images/train'),
        ann_file=mosaic_root + '/train.txt',
        img_suffix='.jpg',
        pipeline=train_pipeline))
