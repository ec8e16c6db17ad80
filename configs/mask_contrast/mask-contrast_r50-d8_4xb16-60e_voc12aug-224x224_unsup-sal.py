# MaskContrast at paper scale (sec. 4.1): DeepLab-v3 with a dilated ResNet-50
# (7x7 stem, as MoCo v2) on VOC train_aug, 60 epochs, batch 64 (4 GPUs x 16),
# SGD momentum 0.9, weight decay 1e-4, lr 0.004 with poly decay, D 32,
# tau 0.5, K 128; masks from the unsupervised saliency (rbd -> bootstrapped
# network, see README.md). The paper initialises the backbone from MoCo v2:
#   python tools/model_converters/extract_pretrained.py moco_v2_800ep.pth.tar \
#       work_dirs/mocov2_backbone.pth --target THIS_CONFIG --parts backbone \
#       --source-prefix backbone=module.encoder_q. --allow-unexpected '^fc\.'
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=work_dirs/mocov2_backbone.pth \
#       model.backbone.init_cfg.prefix=backbone.
# (random init otherwise; a file that leaves a backbone weight at random
# init stops the run). For MMSeg's deep-stem ResNetV1c checkpoints use the
# `_r50-v1c-d8_` variant.
_base_ = [
    '../_base_/models/mask_contrast_r50-d8.py',
    '../_base_/datasets/mask_contrast_voc12aug.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
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
