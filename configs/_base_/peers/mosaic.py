# The mosaic regime of the MMPretrain peer rows, shared by every peer
# algorithm (configs/mmpretrain/*_mosaic-64x64.py) so that they compare on
# the same footing: the mosaic train images (no labels), sized like our
# mosaic methods: ResNet-18 (MMPretrain's, 7x7 stem: evaluated in the
# `r18-v1b` DeepLabV3), 64x64 views, batch 16, 300 iterations (the suite
# rescales them to its wall-clock budget). MOSAIC_ROOT moves the images.
#
# Its keys are named `peer_*`: an algorithm's config inherits MMPretrain's
# own config beside this file, and mmengine refuses a key that two bases
# both define; the algorithm's config binds them (`model =
# {{_base_.peer_model}}`, ...), and its values merge into MMPretrain's as
# an override in the config itself would.
mosaic_root = '{{$MOSAIC_ROOT:work_dirs/demo/texture_mosaics}}'
batch_size = 16
peer_custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
peer_model = dict(
    # one pass over the 240 train images: a longer queue would hold mostly
    # the same images' older keys as negatives (MMPretrain's 65536 is for
    # ImageNet)
    queue_len=224,
    backbone=dict(depth=18),
    neck=dict(in_channels=512, hid_channels=512))
peer_view_pipeline = [
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.2, 1.),
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
peer_train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    # mmengine tags an external base's dicts with `_scope_`, which the
    # collate function would receive as an argument
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(
        _delete_=True,
        type='mmseg.UnlabelledImageDataset',
        data_prefix=dict(img_path=mosaic_root + '/images/train'),
        ann_file=mosaic_root + '/train.txt',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=2,
                 transforms=[peer_view_pipeline]),
            dict(type='PackInputs')
        ]))
peer_max_iters = 300
# MMPretrain's optimiser (SGD lr 0.03, momentum 0.9, wd 1e-4) and cosine
# decay, by iteration
peer_param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=peer_max_iters, by_epoch=False,
         begin=0, end=peer_max_iters)
]
peer_train_cfg = dict(_delete_=True, type='IterBasedTrainLoop',
                      max_iters=peer_max_iters)
peer_default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=peer_max_iters))
peer_log_processor = dict(by_epoch=False)
peer_auto_scale_lr = dict(enable=False)
