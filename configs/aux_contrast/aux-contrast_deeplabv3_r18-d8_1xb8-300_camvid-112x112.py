# Auxiliary-label contrast at mini scale on CamVid (the suite's camvid
# regime, 2 CPU cores): this folder's voc12_mini method (DeepLabV3
# ResNetV1c-18-D8 from random init, 2000 anchors, 2000 batch + 4000 bank
# candidates, SGD lr 0.02 poly, key-encoder momentum 0.99, batch 8, 300
# iterations) on the 367 CamVid train frames and their auxiliary labels
# (AUX_LABELS: make_aux_labels.py over the same frames, K = 16 = round(1.5 x
# 11 classes)), at the regime's third of the resolution: frames fit 160x120
# before the random scale (x0.75-1.5), 112x112 crops. CAMVID_ROOT moves the
# frames.
_base_ = ['./aux-contrast_deeplabv3_r18-d8_1xb8-300_voc12mini-128x128.py']
camvid_root = '{{$CAMVID_ROOT:data/camvid}}'
aux_labels = '{{$AUX_LABELS:work_dirs/aux_contrast/camvid/aux_labels}}'
crop_size = (112, 112)
model = dict(data_preprocessor=dict(size=crop_size))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAuxLabels', root=aux_labels),
    dict(type='RandomResize', scale=(160, 120), ratio_range=(0.75, 1.5),
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
        data_prefix=dict(img_path=camvid_root + '/images/train'),
        ann_file=camvid_root + '/train.txt',
        img_suffix='.jpg',
        pipeline=train_pipeline))
