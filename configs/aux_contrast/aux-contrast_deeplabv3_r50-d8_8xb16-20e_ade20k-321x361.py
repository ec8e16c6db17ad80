# Auxiliary-label contrast pretraining at paper scale: DeepLabV3 R50-D8 on the
# ADE20K training images supplemented with the MS-COCO train2017 images,
# unlabelled (sec. 4) (batch 128 = 8 GPUs x 16, 321x361 crops, 20 epochs), from
# the labels of tools/priors/make_aux_labels.py run over the same images:
#   python tools/priors/make_aux_labels.py $AUX_LABELS EXTRACTOR_CFG CKPT \
#       --data THIS_CONFIG --splits train --stage fit   # then --stage label
# (see docs/dataset_prepare.md for the frames). Then fine-tune stock MMSeg on
# a label fraction (tools/eval/label_fraction.py; see README.md).
_base_ = [
    '../_base_/models/aux_contrast_deeplabv3_r50-d8.py',
    '../_base_/datasets/aux_contrast.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/aux_contrast_20e.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
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
