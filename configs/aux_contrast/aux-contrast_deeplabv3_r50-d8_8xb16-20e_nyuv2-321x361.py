# Auxiliary-label contrast pretraining at paper scale: DeepLabV3 R50-D8 on the
# NYUv2 raw video frames (the paper: 20k-480k unlabelled frames; NYUV2_RAW_ROOT
# holds the RGB frames r-*.ppm of the raw dataset, searched recursively; a list
# file narrows them: train_dataloader.dataset.ann_file=FRAMES.txt) (batch 128 =
# 8 GPUs x 16, 321x361 crops, 20 epochs), from the auxiliary labels of
# tools/priors/make_aux_labels.py over the same frames, made as
# `aux_label_prior` below says (the exact command: configs/aux_contrast/
# README.md, "Paper scale"; docs/dataset_prepare.md for the frames).
# Then fine-tune stock MMSeg on a label fraction
# (tools/eval/label_fraction.py).
_base_ = [
    '../_base_/models/aux_contrast_deeplabv3_r50-d8.py',
    '../_base_/datasets/aux_contrast.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/aux_contrast_20e.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
# The labels this pretraining expects (sec. 4): K = 1.5 M for the M = 40
# classes of NYUv2-40; the ResNet extractor at scales 1, 2, 4.
aux_label_prior = dict(num_classes=40, k=60, scales=(1.0, 2.0, 4.0))
raw_root = '{{$NYUV2_RAW_ROOT:data/nyuv2/raw}}'
train_dataloader = dict(
    dataset=dict(data_prefix=dict(img_path=raw_root), img_suffix='.ppm'))
