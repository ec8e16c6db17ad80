# Linear probe on the Weizmann horses (the suite's horses regime, 2 CPU
# cores): 112x112 crops of photographs fit to 160x120, batch 16, 10 epochs
# of the 180 train images, x0.1 after epoch 7; 2 classes (background,
# horse). HORSE_ROOT moves the data.
_base_ = [
    '../../_base_/datasets/weizmann_horse.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/models/linear_probe.py',
    '../../_base_/schedules/linear_probe_60e.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (112, 112)
model = dict(data_preprocessor=dict(size=crop_size), num_classes=2)
train_dataloader = dict(
    batch_size=16, sampler=dict(type='DefaultSampler', shuffle=True))
max_epochs = 10
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[7], gamma=0.1)
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=max_epochs))
log_processor = dict(by_epoch=True)  # mmseg's runtime logs by iteration
