"""The input of a colorization-pretrained network (Larsson et al., 2017)."""
from __future__ import annotations

from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS


@MODELS.register_module()
class ColorizationDataPreProcessor(SegDataPreProcessor):
    """Feeds a network pretrained by colorization the grey level it was
    trained on, as Mix-and-Match's colorization configs do: ``(B + G + R) / 3
    / 255 - 0.4488`` (their ``take_mean`` and ``bgr_sum`` layers), repeated
    into 3 channels. A stock 3-channel VGG16 whose ``conv1_1`` holds the
    1-channel filter divided by 3 then computes exactly what the grey
    network computes (``extract_pretrained.py --source-layout
    caffe-vgg16``).

    Batching, padding (``size``, ``pad_val`` before the grey conversion) and
    labels are as :class:`SegDataPreProcessor`; mean, std and channel order
    are not used.

    Args:
        offset: Subtracted from the grey level in [0, 1] (0.4488).
    """

    def __init__(self, offset: float = 0.4488, **kwargs) -> None:
        for key in ('mean', 'std', 'bgr_to_rgb', 'rgb_to_bgr'):
            kwargs.pop(key, None)
        super().__init__(**kwargs)
        self.offset = offset

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        grey = data['inputs'].float().mean(1, keepdim=True) / 255 - \
            self.offset
        data['inputs'] = grey.expand(-1, 3, -1, -1).contiguous()
        return data
