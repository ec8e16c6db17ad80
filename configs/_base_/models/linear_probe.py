# A 1x1 conv on a frozen model's dense features (mmssl_seg LinearProbe).
# tools/eval/linear_probe.py fills in encoder, checkpoint, feature and
# in_channels from the model config and checkpoint it is given.
model = dict(
    type='LinearProbe',
    encoder=None,
    checkpoint=None,
    feature='decoder',
    in_channels=None,
    num_classes=21,
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255))
