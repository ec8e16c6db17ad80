# MaskContrast at paper scale (sec. 4.1): DeepLab-v3 with a dilated ResNet-50
# (7x7 stem, as MoCo v2) on VOC train_aug, 60 epochs, batch 64 (4 GPUs x 16),
# SGD momentum 0.9, weight decay 1e-4, lr 0.004 with poly decay, D 32,
# tau 0.5, K 128; masks from the unsupervised saliency (rbd -> bootstrapped
# network, see README.md). The backbone starts from MoCo v2, as the paper's:
# convert the MoCo v2 file once (its projection MLP, key encoder and queue
# are left out by name),
#   python tools/model_converters/extract_pretrained.py \
#       moco_v2_800ep_pretrain.pth.tar work_dirs/mask_contrast/mocov2_r50.pth \
#       --target THIS_CONFIG --source-prefix backbone=module.encoder_q.
# and keep it there or point MOCOV2_BACKBONE at it. Without it the run stops
# at its start with that command; train from random init on purpose with
#   --cfg-options model.backbone.init_cfg=None
# For MMSeg's deep-stem ResNetV1c checkpoints use the `_r50-v1c-d8_` variant.
_base_ = [
    '../_base_/models/mask_contrast_r50-d8.py',
    '../_base_/datasets/mask_contrast_voc12aug.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
mocov2_backbone = '{{$MOCOV2_BACKBONE:work_dirs/mask_contrast/mocov2_r50.pth}}'  # noqa: E501
model = dict(
    backbone=dict(init_cfg=dict(
        type='Pretrained', checkpoint=mocov2_backbone, prefix='backbone.')))
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
