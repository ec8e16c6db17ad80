# Fine-tuning after Mix-and-Match at paper scale, as the authors'
# finetune_seg.prototxt (the paper: "we follow Larsson et al."): the full
# hypercolumn VGG16 (18 maps, 256 training pixels per crop), VOC 2012 + SBD
# at 512x512 crops with mirroring, 6 images on each of 4 GPUs with 2
# accumulated iterations (48 per update, their iter_size 2), 40k iterations,
# lr 0.01, x0.1 at 24k and 36k (the paper).
# From M&M weights (M&M tunes the 13 convolutions; fc6, fc7 and the added
# blocks start at random, as theirs):
#   python tools/model_converters/extract_pretrained.py MM.pth OUT.pth \
#       --target THIS_CONFIG --parts backbone \
#       --allow-missing '^fc[67]\.' '^conv_add'
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=OUT.pth \
#       model.backbone.init_cfg.prefix=backbone.
_base_ = [
    '../_base_/models/hypercolumn_vgg16_full.py',
    '../_base_/datasets/voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/hypercolumn_40k.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(512, 512)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=6, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(accumulative_counts=2)
# the layers M&M does not tune may start at random under a Pretrained init
custom_hooks = [
    dict(type='PretrainedInitCheckHook',
         allow_missing=[r'^fc[67]\.', r'^conv_add'])
]
