# Linear probe on the texture mosaics (the suite's second regime, 2 CPU
# cores): 64x64 crops, batch 16, 10 epochs, x0.1 after epoch 7; 6 classes.
# MOSAIC_ROOT points at the mosaics (tools/make_texture_mosaics.py).
_base_ = [
    '../../_base_/datasets/texture_mosaic.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/models/linear_probe.py',
    '../../_base_/schedules/linear_probe_60e.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (64, 64)
model = dict(data_preprocessor=dict(size=crop_size), num_classes=6)
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
