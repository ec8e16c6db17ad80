from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel, ExponentialMovingAverage
from mmseg.registry import MODELS
from torch import nn

from mmssl_seg.models.losses.mask_contrast_loss import mask_prototypes
from mmssl_seg.models.utils.queue import FeatureQueue
from mmssl_seg.models.utils.seeding import step_randomness


@MODELS.register_module()
class MaskContrast(BaseModel):
    """MaskContrast (Van Gansbeke et al., ICCV 2021), Algorithm 1.

    A dilated backbone and a DeepLabV3 ASPP decode head whose last 1x1 conv
    predicts ``embed_dim + 1`` channels: the first ``embed_dim`` are the pixel
    embedding (L2-normalised), the last is the saliency logit - the paper's
    final layer "split into two linear heads" (supplement C). The key encoder
    is a momentum copy of backbone + decode head (``momentum_encoder``,
    updated by :class:`~mmssl_seg.engine.hooks.MomentumUpdateHook`); the key
    prototypes of every iteration enter a queue of ``queue_size``.

    Per iteration, with two augmented views ``(x_q, s_q), (x_k, s_k)``:
    query embeddings and saliency logits from ``x_q``; key prototypes (eq. 2)
    from ``x_k`` without gradient; the contrastive loss (eq. 3) over the
    salient query pixels against the batch's and the queue's prototypes; the
    saliency loss on ``s_q``; then the prototypes are queued (all ranks).

    Args:
        backbone: A dilated backbone config (MMSeg ``ResNetV1c`` etc.).
        decode_head: An MMSeg decode head config (``ASPPHead``); its
            ``num_classes`` is set to ``embed_dim + 1``.
        embed_dim: D (32 in the paper).
        queue_size: K (128 in the paper).
        momentum: Initial momentum of the key encoder (the hook sets it).
        upsample: Compute the losses at the input resolution (bilinear
            upsampling of the head's output, as the authors' code); ``False``
            at the head's resolution with masks downsampled (cheaper).
        loss_contrast: :class:`MaskContrastLoss` config.
        loss_saliency: :class:`SaliencyBCELoss` config.
        seed: Base seed of the forward passes' dropout (with the ``step``
            buffer: a resumed run draws the masks the unbroken run drew).
        data_preprocessor: Must accept a list of views
            (``mmpretrain.SelfSupDataPreprocessor``).
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 embed_dim: int = 32,
                 queue_size: int = 128,
                 momentum: float = 0.999,
                 upsample: bool = True,
                 loss_contrast: dict = dict(type='MaskContrastLoss'),
                 loss_saliency: dict = dict(type='SaliencyBCELoss'),
                 seed: int = 0,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.embed_dim = embed_dim
        self.upsample = upsample
        self.backbone = MODELS.build(backbone)
        self.decode_head = MODELS.build(
            dict(decode_head, num_classes=embed_dim + 1))
        self.momentum_encoder = ExponentialMovingAverage(
            self.online_encoder, momentum=1.0 - momentum)
        self.queue = FeatureQueue(queue_size,
                                  {'prototypes': ((embed_dim, ),
                                                  torch.float32)})
        self.loss_contrast = MODELS.build(loss_contrast)
        self.loss_saliency = MODELS.build(loss_saliency)
        self.seed = seed
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    @property
    def online_encoder(self) -> nn.Module:
        """The parts the key encoder copies (built on the fly so that the
        weights are registered once, under ``backbone``/``decode_head``)."""
        return nn.ModuleDict(dict(backbone=self.backbone,
                                  decode_head=self.decode_head))

    def init_weights(self) -> None:
        super().init_weights()
        # the key encoder starts equal to the query encoder (MoCo)
        self.momentum_encoder.module.load_state_dict(
            self.online_encoder.state_dict())

    @staticmethod
    def _head(encoder: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        return encoder.decode_head(encoder.backbone(inputs))

    def _split(self, out: torch.Tensor, size) -> tuple[torch.Tensor,
                                                       torch.Tensor]:
        if size is not None:
            out = F.interpolate(out, size=size, mode='bilinear',
                                align_corners=False)
        embedding = F.normalize(out[:, :self.embed_dim], dim=1)
        return embedding, out[:, self.embed_dim:]

    @staticmethod
    def feature_parts(kind: str) -> tuple[str, ...]:
        """The parts that compute the ``kind`` features."""
        if kind == 'backbone':
            return ('backbone', )
        if kind in ('decoder', 'embedding', 'saliency'):
            return ('backbone', 'decode_head')
        raise ValueError(f'unknown feature kind {kind}')

    def dense_features(self, inputs: torch.Tensor,
                       kind: str = 'embedding') -> torch.Tensor:
        """Features for the evaluation protocols: ``backbone`` (last stage),
        ``decoder`` (ASPP features), ``embedding`` (D, unit length) or
        ``saliency`` (probability), at the head's resolution."""
        feats = self.backbone(inputs)
        if kind == 'backbone':
            return feats[-1]
        if kind == 'decoder':
            return self.decode_head._forward_feature(feats)
        embedding, saliency = self._split(self.decode_head(feats), None)
        if kind == 'embedding':
            return embedding
        if kind == 'saliency':
            return saliency.sigmoid()
        raise ValueError(f'unknown feature kind {kind}')

    def loss(self, inputs: list, data_samples: list) -> dict:
        x_q, x_k = inputs
        masks = torch.stack([s.gt_saliency.data for s in data_samples]).to(
            x_q.device)  # N x 2 x H x W
        size = x_q.shape[2:] if self.upsample else None
        with step_randomness(self.seed, self.step):
            query, saliency_logits = self._split(self._head(self, x_q), size)
        mask_q, mask_k = masks[:, 0], masks[:, 1]
        if not self.upsample:  # masks to the head's resolution
            mask_q, mask_k = (F.interpolate(m[:, None].float(),
                                            size=query.shape[2:],
                                            mode='nearest')[:, 0]
                              for m in (mask_q, mask_k))

        with torch.no_grad(), step_randomness(self.seed + 1, self.step):
            key, _ = self._split(self._head(self.momentum_encoder.module,
                                            x_k), size)
            prototypes, valid = mask_prototypes(key, mask_k)

        negatives = self.queue.get('prototypes')
        loss_contrast, stats = self.loss_contrast(query, mask_q, prototypes,
                                                  valid, negatives)
        loss_saliency = self.loss_saliency(saliency_logits[:, 0], mask_q)
        self.queue.push(prototypes=prototypes)
        self.step += 1
        return {
            'loss_contrast': loss_contrast,
            'loss_saliency': loss_saliency,
            'salient_pixels': torch.tensor(float(stats['pixels'])),
        }

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            batch = inputs[0] if isinstance(inputs, list) else inputs
            return self.dense_features(batch, 'embedding')
        raise RuntimeError(f'MaskContrast has no `{mode}` mode: it pretrains; '
                           'evaluate it with tools/eval/*.py')
