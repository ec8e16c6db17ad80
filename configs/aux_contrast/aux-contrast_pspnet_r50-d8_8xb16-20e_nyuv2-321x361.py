# Auxiliary-label contrast pretraining at paper scale: pspnet R50-D8 on the
# 795 nyuv2 training images (batch 128 = 8 GPUs x 16, 321x361 crops, 20
# epochs), from the labels of tools/priors/make_aux_labels.py in AUX_LABELS.
# Then fine-tune stock MMSeg on 10 / 20 / 100 % of the labels
# (tools/eval/label_fraction.py; see README.md).
_base_ = [
    '../_base_/models/aux_contrast_pspnet_r50-d8.py',
    '../_base_/datasets/aux_labels.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/aux_contrast_20e.py',
]
data_root = '{{$NYUV2_ROOT:data/nyuv2}}'
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path=data_root + '/images/train'),
        img_suffix='.jpg'))
