"""The model the linear-probe protocol trains
(:mod:`mmssl_seg.evaluation.protocols.linear_probe`): a frozen pretrained
model and a 1x1 convolution, an MMSeg segmentor so that MMSeg's runner,
data pipeline and metrics train and score it."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmseg.models.segmentors import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import nn

from mmssl_seg.checkpoint.loading import load_weights
from mmssl_seg.models.builder import dense_features, feature_parts


@MODELS.register_module()
class LinearProbe(BaseSegmentor):
    """A frozen pretrained model and a trainable 1x1 convolution on one of its
    dense features (MaskContrast sec. 4.1, supplement D).

    The frozen model stays in eval mode (batch-norm statistics frozen) and
    receives no gradient; only ``classifier`` trains. Logits are upsampled
    bilinearly to the label size for the loss and to the image for inference.

    Args:
        encoder: Config of the pretrained model (an MMSeg segmentor, one of
            our algorithms, or ``mmpretrain.ImageClassifier``).
        checkpoint: Its weights; ``None`` keeps the random init (baseline).
        feature: ``backbone``, ``decoder`` or ``embedding`` (see
            :func:`~mmssl_seg.evaluation.features.dense_features`).
        in_channels: Channels of that feature.
        num_classes: Classes to predict.
        in_index: Backbone stage for ``feature='backbone'``.
        allow_missing: Regexes of encoder keys the checkpoint may leave at
            random init
            (:func:`~mmssl_seg.checkpoint.loading.load_weights`).
        ignore_index: Label excluded from the loss.
        data_preprocessor: Normalisation, as for the pretrained model.
    """

    def __init__(self,
                 encoder: dict,
                 checkpoint: str | None,
                 feature: str,
                 in_channels: int,
                 num_classes: int,
                 in_index: int = -1,
                 allow_missing: Sequence[str] = (),
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        encoder = dict(encoder)
        encoder.pop('pretrained', None)
        self.encoder = MODELS.build(encoder)
        self.encoder.requires_grad_(False)
        self.checkpoint = checkpoint
        self.feature = feature
        self.in_index = in_index
        self.allow_missing = tuple(allow_missing)
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        self.classifier = nn.Conv2d(in_channels, num_classes, kernel_size=1)

    def init_weights(self) -> None:
        """Load the frozen model (or keep its random init) and initialise the
        classifier; the Runner calls this once before training."""
        if self.checkpoint is not None:
            load_weights(self.encoder, self.checkpoint,
                         feature_parts(self.encoder, self.feature),
                         allow_missing=self.allow_missing)
        else:
            self.encoder.init_weights()
        nn.init.normal_(self.classifier.weight, std=0.01)
        nn.init.zeros_(self.classifier.bias)
        self._is_init = True

    def train(self, mode: bool = True) -> 'LinearProbe':
        super().train(mode)
        self.encoder.eval()  # frozen batch-norm statistics
        return self

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return dense_features(self.encoder, inputs, self.feature,
                                  self.in_index)

    def encode_decode(self, inputs: torch.Tensor,
                      batch_img_metas: list) -> torch.Tensor:
        logits = self.classifier(self.extract_feat(inputs))
        return resize(logits, size=inputs.shape[2:], mode='bilinear',
                      align_corners=self.align_corners)

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        logits = self.classifier(self.extract_feat(inputs))
        labels = torch.stack([s.gt_sem_seg.data[0] for s in data_samples])
        logits = resize(logits, size=labels.shape[1:], mode='bilinear',
                        align_corners=self.align_corners)
        valid = labels != self.ignore_index
        # summed and divided by the valid pixels: an all-ignore batch gives 0
        loss = F.cross_entropy(logits, labels.long(), reduction='sum',
                               ignore_index=self.ignore_index)
        count = valid.sum()
        accuracy = (logits.argmax(1)[valid] == labels[valid]).float().sum()
        return {
            'loss_ce': loss / count.clamp(min=1),
            'acc_seg': accuracy / count.clamp(min=1) * 100,
        }

    def predict(self, inputs: torch.Tensor, data_samples: list) -> list:
        metas = [s.metainfo for s in data_samples]
        return self.postprocess_result(self.encode_decode(inputs, metas),
                                       data_samples)

    def _forward(self, inputs: torch.Tensor, data_samples=None):
        return self.classifier(self.extract_feat(inputs))
