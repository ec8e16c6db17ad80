# Bootstrapping of the unsupervised saliency (MaskContrast sec. 4.1, after
# DeepUSPS): the mini stock DeepLabV3-R18-D8 with two classes (background,
# salient) trained from random init on the hand-crafted masks of the train
# images (SALIENCY_STAGE1: a make_saliency.py --method rbd folder); then
#   make_saliency.py OUT --method network --network-config THIS_CONFIG
#       --network-checkpoint WORK_DIR/iter_400.pth
# predicts the final masks.
_base_ = ['../finetune/deeplabv3_r18-d8_1xb8-400_voc12mini-128x128.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
voc_root = '{{$VOC12_MINI_ROOT:data/voc12_mini/VOCdevkit/VOC2012}}'
stage1 = '{{$SALIENCY_STAGE1:work_dirs/mask_contrast/voc12mini/saliency_rbd}}'
model = dict(
    decode_head=dict(num_classes=2), auxiliary_head=dict(num_classes=2))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='LoadSaliencyMask', root=stage1,
        as_seg_map=True),
    dict(
        type='RandomResize',
        scale=(512, 128),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
# what make_saliency.py --method network runs on every image
saliency_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(512, 128), keep_ratio=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        metainfo=dict(
            classes=('background', 'salient'),
            palette=[[0, 0, 0], [255, 255, 255]]),
        data_root='',
        data_prefix=dict(img_path=voc_root + '/JPEGImages'),
        ann_file=stage1 + '/kept_train.txt',
        img_suffix='.jpg',
        pipeline=train_pipeline))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
