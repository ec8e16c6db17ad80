# ADE20K (20 210 train / 2000 val, 150 classes), MMSeg's 512x512 setting.
_base_ = 'mmseg::_base_/datasets/ade20k.py'
data_root = '{{$ADE20K_ROOT:data/ade/ADEChallengeData2016}}'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
