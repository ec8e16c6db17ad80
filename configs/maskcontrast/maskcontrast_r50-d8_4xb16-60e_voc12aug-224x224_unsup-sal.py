# MaskContrast at paper scale (sec. 4.1): DeepLabV3 with dilated ResNetV1c-50
# on VOC train_aug, 60 epochs, batch 64 (4 GPUs x 16), SGD momentum 0.9,
# weight decay 1e-4, lr 0.004 with poly decay, D 32, tau 0.5, K 128; masks
# from the unsupervised saliency (rbd -> bootstrapped network, see
# README.md). The paper initialises the backbone from MoCo v2 weights:
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=MOCO_V2_CONVERTED.pth
# (random init otherwise).
_base_ = [
    '../_base_/models/maskcontrast_r50-d8.py',
    '../_base_/datasets/maskcontrast_voc12aug.py',
    'mmseg::_base_/default_runtime.py',
]
max_epochs = 60
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.004, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'))
log_processor = dict(by_epoch=True)
