# The feature extractor of the paper's auxiliary labels (sec. 3, Fig. 6): a
# ResNet-50 trained without labels (MoCo v2) as an MMPretrain classifier;
# make_aux_labels.py reads the map before its global pooling (--feature
# backbone). MoCo v2's own file converts into it (its projection MLP, key
# encoder and queue are left out by name):
#   python tools/model_converters/extract_pretrained.py \
#       moco_v2_800ep_pretrain.pth.tar work_dirs/aux_contrast/mocov2_r50.pth \
#       --target configs/aux_contrast/extractor_r50_in1k.py \
#       --source-prefix backbone=module.encoder_q.
_base_ = ['mmpretrain::resnet/resnet50_8xb32_in1k.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
# only the model is read (make_aux_labels.py); no ImageNet here
train_dataloader = None
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
train_cfg = None
