# The auxiliary-label paper's schedule: SGD momentum 0.9, weight decay 1e-4,
# two warm-up epochs at lr 0.01, then lr 0.1, x0.1 after epochs 10, 15 and 18;
# 20 epochs. No validation during pretraining.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='ConstantLR', factor=0.1, begin=0, end=2, by_epoch=True),
    dict(type='MultiStepLR', milestones=[10, 15, 18], gamma=0.1,
         by_epoch=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20)
val_cfg = None
test_cfg = None
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=5,
                    max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'))
