# Mix-and-Match tuning from a colorization-pretrained VGG16 (the paper's best
# rows: colorization proxy of Larsson et al. 2017, then M&M): the network
# sees the grey level it was trained on (ColorizationDataPreProcessor).
# Convert the Caffe-named weights (conv1_1 ... conv5_3 with batch_conv* BN;
# a 1-channel conv1_1 becomes 3 equal channels / 3):
#   python tools/model_converters/extract_pretrained.py COLORIZATION.pth \
#       work_dirs/vgg16_colorization.pth --target THIS_CONFIG \
#       --parts backbone \
#       --source-layout caffe-vgg16 --source-prefix backbone= \
#       --allow-unexpected '^fc' '^conv_add'
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=work_dirs/vgg16_colorization.pth \
#       model.backbone.init_cfg.prefix=backbone.
# Fine-tune with
# hypercolumn_vgg16-bn-colorization_4xb6-40k_voc12aug-512x512.py.
_base_ = ['./mix-match_vgg16-bn_1xb16-8k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
model = dict(
    # patches reaching over the border see raw black, as in the authors'
    # colorize prototxt (zero padding before its grey conversion)
    sampler=dict(pad_value=-0.4488),
    data_preprocessor=dict(
        _delete_=True,
        type='ColorizationDataPreProcessor',
        pad_val=0,
        seg_pad_val=255,
        size=(512, 512)))
