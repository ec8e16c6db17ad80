# The CamVid regime of the MMPretrain peer rows, shared by every peer
# algorithm (configs/mmpretrain/*_camvid-112x112.py): the mosaic regime's
# settings (./mosaic.py: ResNet-18 with the 7x7 stem, batch 16, the views
# and the optimiser) except the data: the 367 CamVid train frames (no
# labels) at 112x112 views, a queue of one pass over them (352 keys), 400
# iterations (the suite rescales them). CAMVID_ROOT moves the frames.
_base_ = ['./mosaic.py']
camvid_root = '{{$CAMVID_ROOT:data/camvid}}'
peer_model = dict(queue_len=352)
peer_view_pipeline = [  # MoCo v2's views (as in ./mosaic.py) at 112
    dict(type='RandomResizedCrop', scale=112, crop_ratio_range=(0.2, 1.),
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
    dataset=dict(
        data_prefix=dict(img_path=camvid_root + '/images/train'),
        ann_file=camvid_root + '/train.txt',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=2,
                 transforms=[peer_view_pipeline]),
            dict(type='PackInputs')
        ]))
peer_max_iters = 400
peer_param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=peer_max_iters, by_epoch=False,
         begin=0, end=peer_max_iters)
]
peer_train_cfg = dict(max_iters=peer_max_iters)
peer_default_hooks = dict(checkpoint=dict(interval=peer_max_iters))
