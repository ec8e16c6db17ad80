# Semi-supervised fine-tuning as the MaskContrast paper does it (sec. 4.5):
# the whole pretrained network - dilated ResNet-50 with the 7x7 stem and the
# DeepLab-v3 head - trained on a label fraction of VOC train_aug (stock MMSeg
# EncoderDecoder; the classifier is new). Hand-off:
#   python tools/model_converters/extract_pretrained.py PRETRAIN.pth \
#       work_dirs/mc_finetune.pth --target THIS_CONFIG \
#       --parts backbone decode_head
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=work_dirs/mc_finetune.pth \
#       model.backbone.init_cfg.prefix=backbone. \
#       model.decode_head.init_cfg.type=Pretrained \
#       model.decode_head.init_cfg.checkpoint=work_dirs/mc_finetune.pth \
#       model.decode_head.init_cfg.prefix=decode_head.
_base_ = ['../finetune/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
model = dict(
    backbone=dict(type='ResNet'),
    decode_head=dict(
        _delete_=True,
        type='DeepLabV3Head',
        in_channels=2048,
        in_index=3,
        channels=256,
        dilations=(1, 12, 24, 36),
        project_dropout=0.5,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
