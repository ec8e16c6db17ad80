# Linear probe at paper scale (MaskContrast sec. 4.1, supplement D) on VOC
# 2012 + SBD, 512x512 crops, batch 16 (4 GPUs x 4), 60 epochs. Run through
# tools/eval/linear_probe.py, which fills in the frozen model, holds out part
# of train_aug to choose the lr and the epoch, and scores only the chosen
# probe on val.
_base_ = [
    '../../_base_/datasets/voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/models/linear_probe.py',
    '../../_base_/schedules/linear_probe_60e.py',
]
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(
    batch_size=4, sampler=dict(type='DefaultSampler', shuffle=True))
log_processor = dict(by_epoch=True)  # mmseg's runtime logs by iteration
