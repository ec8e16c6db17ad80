# Hierarchical grouping at paper scale (sec. 4.2): ResNet-50 hypercolumn from
# random init on VOC train_aug + COCO train, 224x224 views, batch 70, Adam
# lr 1e-2 x0.1 at epochs 25, 45 and 60, 80 epochs. Region trees first:
#   python tools/priors/make_hierarchies.py HIERARCHY_DIR --images ... \
#       --edges structured_forest --edge-model model.yml.gz --shard K/N
# (see README.md). Scale the lr with the batch if you change it.
_base_ = [
    '../_base_/models/hier_grouping_r50.py',
    '../_base_/datasets/hier_grouping_voc12aug_coco.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
max_epochs = 80
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-2))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[25, 45, 60],
         gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'))
log_processor = dict(by_epoch=True)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
