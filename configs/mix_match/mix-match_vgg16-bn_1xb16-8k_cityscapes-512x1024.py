# Mix-and-Match tuning on Cityscapes (2975 labelled images, 512x1024 crops).
# Cityscapes has no background class, so no patch is limited as background.
_base_ = [
    '../_base_/models/mix_match_vgg16.py',
    '../_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mix_match_8k.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
model = dict(
    sampler=dict(background_index=-1),
    data_preprocessor=dict(size=(512, 1024)))
train_dataloader = dict(batch_size=16)
# no validation loop during tuning
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
