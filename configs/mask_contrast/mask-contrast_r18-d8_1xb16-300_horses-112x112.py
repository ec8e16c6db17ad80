# MaskContrast at mini scale on the Weizmann horses (the suite's horses
# regime, 2 CPU cores; one salient object per photograph, the paper's
# setting): ResNet-18-D8 with the 7x7 stem (MoCo v2's network), the 180
# train photographs fit to 160x120 with their unsupervised saliency masks
# (SALIENCY_DIR: make_saliency.py --method rbd), 112x112 views, batch 16, 300
# iterations, the paper's SGD lr 0.004 with poly decay. The backbone starts
# from MoCo v2, as the paper's: MMPretrain's, trained in the same regime
# (configs/mmpretrain/mocov2_r18_1xb16-400_horses-112x112.py) and converted
#   T=configs/finetune/deeplabv3_r18-v1b-d8_1xb8-250_horses-112x112.py
#   python tools/model_converters/extract_pretrained.py \
#       work_dirs/mocov2_horses/iter_400.pth \
#       work_dirs/mask_contrast/horses/mocov2_r18.pth --target $T \
#       --parts backbone
# (or point MOCOV2_BACKBONE at it). Without it the run stops at its start;
# train from random init on purpose with
#   --cfg-options model.backbone.init_cfg=None
# HORSE_ROOT moves the photographs.
_base_ = ['./mask-contrast_r18-d8_1xb16-500_voc12mini-96x96.py']
horse_root = '{{$HORSE_ROOT:data/weizmann_horse_seg}}'
saliency_dir = '{{$SALIENCY_DIR:work_dirs/mask_contrast/horses/saliency}}'
mocov2_backbone = '{{$MOCOV2_BACKBONE:work_dirs/mask_contrast/horses/mocov2_r18.pth}}'  # noqa: E501
model = dict(
    backbone=dict(init_cfg=dict(
        type='Pretrained', checkpoint=mocov2_backbone, prefix='backbone.')))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSaliencyMask', root=saliency_dir),
    dict(
        type='SaliencyViews',
        size=112,
        num_views=2,
        scale=(0.2, 1.0),
        min_area=0.1,
        max_area=1.0,
        photometric={{_base_.photometric}}),
    dict(type='PackSaliencyViews'),
]
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path=horse_root + '/images/train'),
        ann_file=saliency_dir + '/kept.txt',
        pipeline=train_pipeline))
max_iters = 300
optim_wrapper = dict(optimizer=dict(lr=0.004))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters // 4))
