# Auxiliary-label contrast at mini scale on the Weizmann horses (the suite's
# horses regime, 2 CPU cores): the CamVid regime's method (DeepLabV3
# ResNetV1c-18-D8 from random init, 2000 anchors, 2000 batch + 4000 bank
# candidates, SGD lr 0.02 poly, key-encoder momentum 0.99, batch 8, 300
# iterations, photographs fit to 160x120 before the random scale
# (x0.75-1.5), 112x112 crops) on the 180 train photographs and their
# auxiliary labels (AUX_LABELS: make_aux_labels.py over the same images, K =
# 3 = round(1.5 x 2 classes)). HORSE_ROOT moves the photographs.
_base_ = ['./aux-contrast_deeplabv3_r18-d8_1xb8-300_camvid-112x112.py']
horse_root = '{{$HORSE_ROOT:data/weizmann_horse_seg}}'
aux_labels = '{{$AUX_LABELS:work_dirs/aux_contrast/horses/aux_labels}}'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAuxLabels', root=aux_labels),
    dict(type='RandomResize', scale=(160, 120), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomRotate', prob=0.5, degree=15, pad_val=0,
         seg_pad_val=255),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
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
        data_prefix=dict(img_path=horse_root + '/images/train'),
        ann_file=horse_root + '/train.txt',
        pipeline=train_pipeline))
