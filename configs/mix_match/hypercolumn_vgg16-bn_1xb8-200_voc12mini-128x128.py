# The hypercolumn fine-tuning at mini scale: voc12_mini, 128x128 crops,
# batch 8, 200 iterations, lr 0.01, x0.1 at 120 and 180 (24k/36k of 40k,
# scaled), 200 pixels per image for the loss.
_base_ = [
    '../_base_/models/hypercolumn_vgg16.py',
    '../_base_/datasets/voc12_mini.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/hypercolumn_40k.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    decode_head=dict(channels=256, num_points=200))
train_dataloader = dict(batch_size=8)
max_iters = 200
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[120, 180],
         gamma=0.1)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=max_iters))
