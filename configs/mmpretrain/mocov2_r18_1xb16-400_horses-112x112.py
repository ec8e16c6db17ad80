# MMPretrain's stock MoCo v2 (Chen et al., 2020), the peer row of the
# benchmark's horses regime: the registered `mmpretrain.MoCo` with its
# neck, head and view pipeline inherited from MMPretrain's own config, in the
# regime every peer shares (../_base_/peers/horses.py: data, sizes,
# schedule).
_base_ = [
    'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py',
    '../_base_/peers/horses.py'
]
custom_imports = {{_base_.peer_custom_imports}}
model = {{_base_.peer_model}}
view_pipeline = {{_base_.peer_view_pipeline}}
train_dataloader = {{_base_.peer_train_dataloader}}
param_scheduler = {{_base_.peer_param_scheduler}}
train_cfg = {{_base_.peer_train_cfg}}
default_hooks = {{_base_.peer_default_hooks}}
log_processor = {{_base_.peer_log_processor}}
auto_scale_lr = {{_base_.peer_auto_scale_lr}}
