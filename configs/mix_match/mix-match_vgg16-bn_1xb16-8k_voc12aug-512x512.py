# Mix-and-Match tuning at paper scale: VGG16-BN on VOC 2012 + SBD, batch of
# 16 images = one graph of 160 patches on ONE GPU (the paper trains on a
# single TITAN-X; under DDP every GPU would build its own graph from its own
# 16 images), 8000 iterations, SGD lr 0.01 then 0.001 after 6000. From random
# init (the paper's "Random" rows) or from a proxy-task checkpoint you have
# (colorization, jigsaw):
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=PROXY.pth \
#       model.backbone.init_cfg.prefix=backbone.
# Then fine-tune with hypercolumn_vgg16-bn_4xb6-40k_voc12aug-512x512.py
# (README.md).
_base_ = [
    '../_base_/models/mix_match_vgg16.py',
    '../_base_/datasets/voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/mix_match_8k.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
# the authors' data layer: random 512x512 crops (smaller images stay whole
# and the data preprocessor pads them with the mean colour and void) and
# mirroring, no rescaling or colour jitter (the paper is silent)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(512, 512)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
# no validation loop during tuning
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
