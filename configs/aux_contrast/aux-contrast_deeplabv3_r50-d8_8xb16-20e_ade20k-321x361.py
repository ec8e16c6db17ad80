# Auxiliary-label contrast pretraining at paper scale: DeepLabV3 R50-D8 on the
# ADE20K training images supplemented with the MS-COCO train2017 images,
# unlabelled (sec. 4) (batch 128 = 8 GPUs x 16, 321x361 crops, 20 epochs), from
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
# The labels this pretraining expects (sec. 4): K = 1.5 M for the M = 150
# classes of ADE20K; the ResNet extractor at scales 1, 2, 4.
aux_label_prior = dict(num_classes=150, k=225, scales=(1.0, 2.0, 4.0))
ade_root = '{{$ADE20K_ROOT:data/ade/ADEChallengeData2016}}'
coco_root = '{{$COCO_ROOT:data/coco}}'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type='UnlabelledImageDataset',
                data_prefix=dict(img_path=ade_root + '/images/training'),
                img_suffix='.jpg',
                pipeline={{_base_.train_pipeline}}),
            dict(
                type='UnlabelledImageDataset',
                data_prefix=dict(img_path=coco_root + '/train2017'),
                img_suffix='.jpg',
                pipeline={{_base_.train_pipeline}}),
        ]))
