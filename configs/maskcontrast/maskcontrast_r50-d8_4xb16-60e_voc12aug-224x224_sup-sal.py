# The paper's supervised-saliency variant: the same training on masks of a
# supervised saliency model (BAS-Net trained on DUTS in the paper) that you
# import with `make_saliency.py OUT --method imported --import-dir MASKS`.
_base_ = ['./maskcontrast_r50-d8_4xb16-60e_voc12aug-224x224_unsup-sal.py']
saliency_dir = '{{$SALIENCY_DIR:work_dirs/maskcontrast/voc12aug/saliency_sup}}'
train_dataloader = dict(
    dataset=dict(
        ann_file=saliency_dir + '/kept_train.txt',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadSaliencyMask', root=saliency_dir),
            {{_base_.views}},
            dict(type='PackSaliencyViews'),
        ]))
