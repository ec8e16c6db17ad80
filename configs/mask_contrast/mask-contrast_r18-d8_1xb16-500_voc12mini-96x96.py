# MaskContrast at mini scale for 2 CPU cores: ResNet-18-D8 (7x7 stem) from
# random init, the 330 voc12_mini train images with unsupervised saliency
# masks, 96x96 views, batch 16, 500 iterations (about 25 minutes), SGD lr 0.02
# poly (the paper's 0.004 is for a MoCo-initialised R50 at batch 64). See
# README.md for the commands from saliency to evaluation.
_base_ = [
    '../_base_/models/mask_contrast_r50-d8.py',
    '../_base_/datasets/mask_contrast_voc12mini.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mini_cpu.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=512, norm_cfg=norm_cfg))
max_iters = 500
optim_wrapper = dict(optimizer=dict(lr=0.02, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters // 4, max_keep_ckpts=2))
val_cfg = None
test_cfg = None
