# The paper-scale MaskContrast with MMSeg's deep-stem ResNetV1c-50 (three
# 3x3 stem convolutions), for MMSeg-native checkpoints such as
# open-mmlab://resnet50_v1c; MoCo v2 / torchvision files fit the default
# `_r50-d8_` config (7x7 stem) instead.
_base_ = ['./mask-contrast_r50-d8_4xb16-60e_voc12aug-224x224_unsup-sal.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
# The start: MMSeg / MMPretrain ResNetV1c-50 weights converted with
#   python tools/model_converters/extract_pretrained.py R50_V1C.pth \
#       work_dirs/mask_contrast/r50_v1c.pth --target THIS_CONFIG
# (or R50_V1C_BACKBONE); random init on purpose: model.backbone.init_cfg=None
r50_v1c_backbone = '{{$R50_V1C_BACKBONE:work_dirs/mask_contrast/r50_v1c.pth}}'  # noqa: E501
model = dict(backbone=dict(type='ResNetV1c', init_cfg=dict(
    type='Pretrained', checkpoint=r50_v1c_backbone, prefix='backbone.')))
