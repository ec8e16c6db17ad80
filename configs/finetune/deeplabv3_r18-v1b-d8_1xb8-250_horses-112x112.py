# The horses DeepLabV3-R18-D8 with the 7x7 stem of torchvision / MMPretrain
# ResNets (MMSeg `ResNet`, i.e. ResNetV1b, instead of the deep-stem
# ResNetV1c): the evaluation segmentor of MaskContrast (its paper's network
# is MoCo v2's ResNet), of the MMPretrain peer rows and of the random-init
# row they are compared with, so that their backbones load with no key left
# at random init.
_base_ = ['./deeplabv3_r18-d8_1xb8-250_horses-112x112.py']
model = dict(backbone=dict(type='ResNet'))
