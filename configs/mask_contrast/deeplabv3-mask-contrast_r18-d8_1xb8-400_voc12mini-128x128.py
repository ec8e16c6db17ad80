# The MaskContrast network (dilated ResNet-18 with the 7x7 stem, DeepLab-v3
# head) fine-tuned on voc12_mini at 128x128 with the paper's recipe (batch 8,
# lr 0.004, weight decay 1e-4, poly, batch-norm statistics frozen, no
# auxiliary head): the CPU-sized counterpart of
# deeplabv3-mask-contrast_r50-d8_2xb4-20k_voc12aug-512x512.py (see there for
# the hand-off).
_base_ = ['../finetune/deeplabv3_r18-d8_1xb8-400_voc12mini-128x128.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
model = dict(
    backbone=dict(type='ResNet', norm_eval=True),
    decode_head=dict(
        _delete_=True,
        type='DeepLabV3Head',
        in_channels=512,
        in_index=3,
        channels=256,
        dilations=(1, 12, 24, 36),
        project_dropout=0.5,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=None)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.004, momentum=0.9, weight_decay=1e-4))
