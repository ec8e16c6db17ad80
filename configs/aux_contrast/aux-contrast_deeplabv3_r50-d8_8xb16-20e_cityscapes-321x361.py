# Auxiliary-label contrast pretraining at paper scale: DeepLabV3 R50-D8 on the
# unlabelled Cityscapes video frames (leftImg8bit_sequence/train: 30 frames
# around each of the 2975 train images, about 89k; the paper: "more than 100
# 000"), never val (batch 128 = 8 GPUs x 16, 321x361 crops, 20 epochs), from
# the auxiliary labels of tools/priors/make_aux_labels.py over the same
# images, made as `aux_label_prior` below says (the exact command:
# configs/aux_contrast/README.md, "Paper scale"). Then fine-tune stock
# MMSeg on a label fraction (tools/eval/label_fraction.py).
_base_ = [
    '../_base_/models/aux_contrast_deeplabv3_r50-d8.py',
    '../_base_/datasets/aux_contrast.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/aux_contrast_20e.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
# The labels this pretraining expects (sec. 4): K = 1.5 M for the M = 19
# classes of Cityscapes; the ResNet extractor at scales 0.5, 1, 2.
aux_label_prior = dict(num_classes=19, k=28, scales=(0.5, 1.0, 2.0))
data_root = '{{$CITYSCAPES_ROOT:data/cityscapes}}'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path=data_root + '/leftImg8bit_sequence/train'),
        img_suffix='_leftImg8bit.png'))
