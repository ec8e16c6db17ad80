# Mix-and-Match tuning at mini scale for 2 CPU cores: VGG16-BN from random
# init on voc12_mini, 128x128 crops, batch 4 with the paper's 10 patches per
# image (a graph of 40 nodes; sides 24-64, resized to 64), 200 iterations,
# lr 0.01 then 0.001 after 150.
_base_ = [
    '../_base_/models/mix_match_vgg16.py',
    '../_base_/datasets/voc12_mini.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mix_match_8k.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
model = dict(
    sampler=dict(patches_per_image=10, min_size=24, max_size=64,
                 out_size=64),
    data_preprocessor=dict(size=(128, 128)))
train_dataloader = dict(batch_size=4)
max_iters = 200
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[150], gamma=0.1)
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters // 4, max_keep_ckpts=2))
# no validation loop during tuning
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
