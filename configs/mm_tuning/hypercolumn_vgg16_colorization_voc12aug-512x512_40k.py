# Hypercolumn fine-tuning of a colorization-pretrained (and M&M-tuned) VGG16
# on the grey level it was trained on, as the authors' colorization
# fine-tuning does (see vgg16_voc_colorization.py for the conversion).
_base_ = ['./hypercolumn_vgg16_voc12aug-512x512_40k.py']
model = dict(
    data_preprocessor=dict(
        _delete_=True,
        type='ColorizationDataPreProcessor',
        pad_val=0,
        seg_pad_val=255,
        size=(512, 512)))
