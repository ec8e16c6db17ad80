# Hypercolumn fine-tuning of a colorization-pretrained (and M&M-tuned) VGG16 on
# the grey level it was trained on, as the authors' colorization fine-tuning
# does (see mix-match_vgg16-bn-colorization_1xb16-8k_voc12aug-512x512.py for
# the conversion).
_base_ = ['./hypercolumn_vgg16-bn_4xb6-40k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(
        _delete_=True,
        type='ColorizationDataPreProcessor',
        pad_val=0,
        seg_pad_val=255,
        size=(512, 512)))
