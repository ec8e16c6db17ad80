# Stock MMSeg pspnet with a dilated ResNetV1c-50 (output stride 8) on VOC 2012
# + SBD at 512x512, 4 GPUs x 4 images, 20k iterations: MMSeg's own
# pspnet_r50-d8_4xb4-20k_voc12aug-512x512 with the train_aug id list as one
# dataset (so label-fraction splits work) and no ImageNet download. Random init
# by default; from a checkpoint of extract_pretrained.py add
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=PRETRAINED.pth \
#       model.backbone.init_cfg.prefix=backbone.
# and train on a label fraction with
#   train_dataloader.dataset.ann_file=SPLITS/trainaug_10pct_seed0.txt
_base_ = [
    'mmseg::_base_/models/pspnet_r50-d8.py',
    '../_base_/datasets/voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    decode_head=dict(num_classes=21),
    auxiliary_head=dict(num_classes=21))
