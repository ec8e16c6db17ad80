# MMPretrain's stock DenseCL on the voc12_mini train images (no labels): the
# peer row of the benchmark's voc12_mini regime. Everything as the mosaic
# config (MMPretrain's algorithm, neck, head, optimiser and views; ResNet-18
# with the 7x7 stem) except the data: 330 train photographs at 128x128
# views, a queue of one pass over them (320 keys), 400 iterations (the suite
# rescales them). VOC12_MINI_ROOT moves the images.
_base_ = ['./densecl_r18_1xb16-300_mosaic-64x64.py']
voc_root = '{{$VOC12_MINI_ROOT:data/voc12_mini/VOCdevkit/VOC2012}}'
queue_len = 320
model = dict(queue_len=queue_len)
view_pipeline = [  # MoCo v2's views (as in the mosaic config) at 128
    dict(type='RandomResizedCrop', scale=128, crop_ratio_range=(0.2, 1.),
         backend='pillow'),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                          saturation=0.4, hue=0.1)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0),
         magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path=voc_root + '/JPEGImages'),
        ann_file=voc_root + '/ImageSets/Segmentation/train.txt',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=2,
                 transforms=[view_pipeline]),
            dict(type='PackInputs')
        ]))
max_iters = 400
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_iters, by_epoch=False,
         begin=0, end=max_iters)
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
