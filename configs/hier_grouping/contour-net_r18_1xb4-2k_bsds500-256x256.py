# The contour detector at a CPU budget (about 25 minutes on 2 cores): the
# same network, data and loss as the 4k-iteration config, with batch 4,
# 256x256 crops and 2k iterations. Used by the mini hierarchical-grouping
# run and by `tools/benchmark.py`; the BSDS numbers of both schedules are in
# README.md.
_base_ = ['./contour-net_r18_1xb8-4k_bsds500-320x320.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (256, 256)
model = dict(data_preprocessor=dict(size=crop_size))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBSDSBoundaries', eta=0.5),
    dict(type='RandomResize', scale=(481, 321), ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(datasets=[
        dict(
            type='BSDSBoundaryDataset',
            data_root={{_base_.bsds_root}},
            data_prefix=dict(
                img_path=f'images/{split}',
                seg_map_path=f'groundTruth/{split}'),
            pipeline=train_pipeline) for split in ('train', 'val')
    ]))
max_iters = 2000
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=1e-4, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=500,
        max_keep_ckpts=2))
