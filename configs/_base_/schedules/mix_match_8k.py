# Mix-and-Match tuning schedule: 8000 iterations, SGD lr 0.01 then 0.001
# after 6000; no validation (the tuned backbone is judged after fine-tuning,
# so the M&M configs also set the dataset base's val/test loaders to None).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
max_iters = 8000
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[6000], gamma=0.1)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
val_cfg = None
test_cfg = None
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=2000,
        max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'))
