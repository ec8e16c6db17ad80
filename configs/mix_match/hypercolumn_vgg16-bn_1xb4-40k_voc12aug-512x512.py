# Fine-tuning after Mix-and-Match at paper scale: VGG16-BN + hypercolumn head
# on VOC 2012 + SBD at 512x512, 40k iterations (lr 0.01, x0.1 at 24k, 36k).
# From M&M weights:
#   python tools/model_converters/extract_pretrained.py MM.pth OUT.pth \
#       --target THIS_CONFIG
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=OUT.pth \
#       model.backbone.init_cfg.prefix=backbone.
_base_ = [
    '../_base_/models/hypercolumn_vgg16.py',
    '../_base_/datasets/voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/hypercolumn_40k.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
train_dataloader = dict(batch_size=4)
