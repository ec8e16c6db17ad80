# The paper's supervised-saliency variant: the same training on masks of a
# supervised saliency model (BAS-Net trained on DUTS in the paper) that you
# import with `make_saliency.py OUT --method imported --import-dir MASKS`.
_base_ = ['./mask-contrast_r50-d8_4xb16-60e_voc12aug-224x224_unsup-sal.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
saliency_dir = '{{$SALIENCY_DIR:work_dirs/mask_contrast/voc12aug/saliency_sup}}'  # noqa: E501
train_dataloader = dict(
    dataset=dict(
        ann_file=saliency_dir + '/kept_train.txt',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadSaliencyMask', root=saliency_dir),
            {{_base_.views}},
            dict(type='PackSaliencyViews'),
        ]))
