# Unlabelled images with auxiliary labels (tools/priors/make_aux_labels.py
# output: labels/, superpixels/), SimCLR-style augmentations applied jointly
# to image, labels and superpixels (random scale, rotation, crop, flip,
# colour) and CutOut filled with its own mean colour; the paper's 321x361
# crops. The images are unlabelled (UnlabelledImageDataset: a folder searched
# recursively, or a list file); a method config sets
# train_dataloader.dataset.data_prefix.img_path (and img_suffix / ann_file).
# AUX_LABELS names the label folder, made by make_aux_labels.py over the same
# images (--data THE_PRETRAINING_CONFIG --splits train).
aux_labels = '{{$AUX_LABELS:work_dirs/aux_contrast/aux_labels}}'
crop_size = (321, 361)
scale = (2048, 512)  # images fit 2048x512 before the random scale
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAuxLabels', root=aux_labels),
    dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0),
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
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='UnlabelledImageDataset',
        data_root='',
        data_prefix=dict(img_path=''),
        img_suffix='.jpg',
        pipeline=train_pipeline))
