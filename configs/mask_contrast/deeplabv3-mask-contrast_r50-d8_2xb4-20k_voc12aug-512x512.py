# Semi-supervised fine-tuning as the MaskContrast paper does it (supplement
# F): the whole pretrained network - dilated ResNet-50 with the 7x7 stem and
# the DeepLab-v3 head - trained on a label fraction of VOC train_aug (stock
# MMSeg EncoderDecoder; the classifier is new) with batch 8 (2 GPUs x 4),
# SGD momentum 0.9, lr 0.004, weight decay 1e-4, poly decay, the batch-norm
# statistics frozen, no auxiliary head (the network is the pretrained one).
# This recipe is the paper's for 5, 12.5 and 100 % of the labels; for 1 and
# 2 % use the `_low-label` variant (lr 0.001, 0.1 for the last layer).
# Hand-off:
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
    backbone=dict(type='ResNet', norm_eval=True),
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
        norm_eval=True,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=None)
train_dataloader = dict(batch_size=4)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.004, momentum=0.9, weight_decay=1e-4))
