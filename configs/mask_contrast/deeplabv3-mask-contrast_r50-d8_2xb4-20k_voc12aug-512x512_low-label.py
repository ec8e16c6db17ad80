# MaskContrast fine-tuning at 1 % and 2 % of the labels (supplement F): lr
# 0.001 for every layer but the final convolution (the classifier), which
# takes 0.1; everything else as at 5-100 %.
_base_ = ['./deeplabv3-mask-contrast_r50-d8_2xb4-20k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
optim_wrapper = dict(
    optimizer=dict(lr=0.001),
    paramwise_cfg=dict(
        custom_keys={'decode_head.conv_seg': dict(lr_mult=100.0)}))
