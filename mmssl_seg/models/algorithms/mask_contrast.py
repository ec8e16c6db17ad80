from __future__ import annotations

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn

from mmssl_seg.models.algorithms.base import (
    BaseSelfSupervised,
    MomentumEncoderMixin,
    check_num_classes,
)
from mmssl_seg.models.losses.mask_contrast_loss import (
    mask_prototypes,
    pixel_prototypes,
    upsampled_pixels,
)
from mmssl_seg.models.utils.queue import FeatureQueue


@MODELS.register_module()
class MaskContrast(MomentumEncoderMixin, BaseSelfSupervised):
    """MaskContrast (Van Gansbeke et al., ICCV 2021), Algorithm 1.

    A dilated backbone and the DeepLab-v3 decode head whose last 1x1 conv
    predicts ``embed_dim + 1`` channels: the first ``embed_dim`` are the pixel
    embedding (L2-normalised), the last is the saliency logit - the paper's
    final layer "split into two linear heads" (supplement C). The key encoder
    is a momentum copy of backbone + decode head; the key prototypes of
    every iteration enter a queue of ``queue_size``.

    The whole step, with two augmented views ``(x_q, s_q), (x_k, s_k)``::

        q, sal = split(decode_head(backbone(x_q)))         # N x D x H x W
        k, _ = split(key_encoder(x_k))                     # no gradient
        (q and k upsampled to the input; masks as weights, or on the CPU
         the salient pixels gathered: the same values)
        p = normalize(sum_{s_k} k)                         # eq. 2, N x D
        losses = head(q, sal, s_q, p, queue)               # eq. 3 + BCE
        queue <- p                                         # all ranks

    Args:
        backbone: A dilated backbone config (MMSeg ``ResNet`` etc.).
        decode_head: An MMSeg decode head config with ``num_classes`` =
            ``embed_dim + 1`` (:class:`DeepLabV3Head`).
        head: :class:`MaskContrastHead` config (the losses).
        embed_dim: D (32 in the paper).
        queue_size: K (128 in the paper).
        momentum: m of the key encoder (0.999).
        upsample: Compute the losses at the input resolution (bilinear
            upsampling of the head's output, as the authors' code);
            ``False`` at the head's resolution with masks downsampled
            (cheaper).
        fixed_shapes: How the upsampled loss reads the salient pixels:
            every pixel with the masks as weights (``True``: no size
            depends on the data, nothing waits for the host, the way on a
            GPU) or gathered by index (``False``: a third of the work where
            a host read costs nothing). ``None`` (default): fixed shapes
            except on the CPU. Both give the same loss and gradients.
        seed: Base seed of the forward passes' dropout (with the ``step``
            buffer: a resumed run draws the masks the unbroken run drew).
        data_preprocessor: Must accept a list of views
            (``mmpretrain.SelfSupDataPreprocessor``).
    """

    FEATURE_PARTS = {'backbone': ('backbone', ),
                     'decoder': ('backbone', 'decode_head'),
                     'embedding': ('backbone', 'decode_head'),
                     'embedding_raw': ('backbone', 'decode_head'),
                     'saliency': ('backbone', 'decode_head'),
                     'saliency_logit': ('backbone', 'decode_head')}
    default_feature = 'embedding'

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 head: dict = dict(type='MaskContrastHead'),
                 embed_dim: int = 32,
                 queue_size: int = 128,
                 momentum: float = 0.999,
                 upsample: bool = True,
                 fixed_shapes: bool | None = None,
                 seed: int = 0,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        check_num_classes(decode_head, embed_dim + 1,
                          'the embedding and the saliency logit')
        super().__init__(backbone, head=head, seed=seed,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.embed_dim = embed_dim
        self.upsample = upsample
        self.fixed_shapes = fixed_shapes
        self.decode_head = MODELS.build(decode_head)
        self.build_momentum_encoder(momentum)
        self.queue = FeatureQueue(queue_size,
                                  {'prototypes': ((embed_dim, ),
                                                  torch.float32)})

    def _fixed_shapes(self, device: torch.device) -> bool:
        if self.fixed_shapes is not None:
            return self.fixed_shapes
        return device.type != 'cpu'

    @property
    def online_encoder(self) -> nn.Module:
        """The parts the key encoder copies (built on the fly so that the
        weights are registered once, under ``backbone``/``decode_head``)."""
        return nn.ModuleDict(dict(backbone=self.backbone,
                                  decode_head=self.decode_head))

    @staticmethod
    def _head(encoder: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        return encoder.decode_head(encoder.backbone(inputs))

    def _split(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The head's output as (L2-normalised embedding, saliency logit)."""
        embedding = F.normalize(out[:, :self.embed_dim], dim=1)
        return embedding, out[:, self.embed_dim:]

    def head_features(self, feats, kind: str) -> torch.Tensor:
        """``decoder`` (the head's features before its classifier),
        ``embedding`` (D, unit length), ``embedding_raw`` (before the
        normalisation), ``saliency`` (probability) or ``saliency_logit``, at
        the head's resolution."""
        if kind == 'decoder':
            return self.decode_head._forward_feature(feats)
        out = self.decode_head(feats)
        d = self.embed_dim
        return {'embedding': lambda: F.normalize(out[:, :d], dim=1),
                'embedding_raw': lambda: out[:, :d],
                'saliency': lambda: out[:, d:].sigmoid(),
                'saliency_logit': lambda: out[:, d:]}[kind]()

    def loss(self, inputs: list, data_samples: list) -> dict:
        x_q, x_k = inputs
        masks = torch.stack([s.gt_saliency.data for s in data_samples]).to(
            x_q.device)  # N x 2 x H x W
        mask_q, mask_k = masks[:, 0], masks[:, 1]
        d = self.embed_dim
        with self.randomness(x_q.device):
            out = self._head(self, x_q)
        with torch.no_grad(), self.randomness(x_q.device, offset=1):
            out_k = self._head(self.momentum_encoder.module, x_k)[:, :d]
        size = x_q.shape[2:]
        if self.upsample and not self._fixed_shapes(x_q.device):
            # the embeddings at the input resolution at the salient pixels
            # only (the ones the losses read), the saliency logit everywhere
            query = upsampled_pixels(out[:, :d], mask_q)
            saliency_logits = F.interpolate(out[:, d:], size=size,
                                            mode='bilinear',
                                            align_corners=False)
            with torch.no_grad():
                prototypes, valid = pixel_prototypes(
                    *upsampled_pixels(out_k, mask_k), len(out_k))
        else:
            if self.upsample:  # the embeddings and saliency at the input
                out, out_k = (F.interpolate(o, size=size, mode='bilinear',
                                            align_corners=False)
                              for o in (out, out_k))
            else:  # masks to the head's resolution
                mask_q, mask_k = (F.interpolate(m[:, None].float(),
                                                size=out.shape[2:],
                                                mode='nearest')[:, 0]
                                  for m in (mask_q, mask_k))
            query, saliency_logits = self._split(out)
            with torch.no_grad():
                prototypes, valid = mask_prototypes(
                    F.normalize(out_k, dim=1), mask_k)
        losses = self.head.loss(query, saliency_logits[:, 0], mask_q,
                                prototypes, valid,
                                self.queue.get('prototypes'))
        self.queue.push(prototypes=prototypes)
        self.advance_step()
        return losses
