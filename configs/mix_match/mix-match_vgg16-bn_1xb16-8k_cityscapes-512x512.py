# Mix-and-Match tuning on Cityscapes (2975 labelled images) as the authors'
# VGG/random_cityscapes prototxt: 512x512 crops, batch 16, and road (train
# id 0) as the background class that gets 1 patch of the image's 10 (their
# sampler's rule: label 0 is the background). Patch sides keep the paper's
# "various sizes" (64-256); the prototxt fixes them at 128:
#   --cfg-options model.sampler.min_size=128 model.sampler.max_size=128
# (and model.sampler.patches_per_image=9 for its 144 patches per batch).
_base_ = [
    '../_base_/models/mix_match_vgg16.py',
    '../_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mix_match_8k.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
# the authors' data layer: random 512x512 crops and mirroring, no rescaling
# or colour jitter (the paper is silent)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(512, 512)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
model = dict(sampler=dict(background_index=0))
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
# no validation loop during tuning
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
