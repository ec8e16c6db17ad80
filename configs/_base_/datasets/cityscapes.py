# Cityscapes (2975 train / 500 val, 19 classes), MMSeg's 512x1024 setting.
# Prepare with MMSeg's tools/dataset_converters/cityscapes.py.
_base_ = 'mmseg::_base_/datasets/cityscapes.py'
data_root = '{{$CITYSCAPES_ROOT:data/cityscapes}}'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
