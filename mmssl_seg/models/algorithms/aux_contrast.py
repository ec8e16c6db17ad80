from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.dist import get_rank, get_world_size
from mmseg.registry import MODELS
from torch import nn

from mmssl_seg.models.algorithms.base import (
    BaseSelfSupervised,
    MomentumEncoderMixin,
    check_num_classes,
)
from mmssl_seg.models.losses.aux_contrast_loss import STAT_NAMES, PixelMeta
from mmssl_seg.models.utils.point_sampling import sample_points
from mmssl_seg.models.utils.queue import FeatureQueue
from mmssl_seg.models.utils.zero_loss import zero_loss

IGNORE = 255


def sample_pixels(labels: torch.Tensor, count: int,
                  generator: torch.Generator
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` distinct pixels of each row of ``labels`` (``... x L``: the
    flattened batch, or one row per image), uniform among the labelled
    ones: their indices in the row and whether each is labelled (``False``
    where a row has fewer labelled pixels than ``count``: padding to
    ignore). The largest of one uniform key per pixel (unlabelled: -1), so
    the shapes never depend on the data."""
    keys = torch.rand(labels.shape, generator=generator,
                      device=labels.device).masked_fill(labels == IGNORE,
                                                        -1.0)
    top = keys.topk(min(count, labels.shape[-1]), dim=-1)
    return top.indices, top.values >= 0


def split_draw(drawn: int, anchors: int, candidates: int,
               device: torch.device | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions in a draw of ``drawn`` pixels (:func:`sample_pixels`:
    labelled pixels first, in random order) of the anchors and of the batch
    candidates: two different sets (the paper's "a different set"). Where a
    level has fewer pixels than ``anchors + candidates`` (a small crop at
    1/8) both shrink in proportion, never the candidates to nothing (which
    would leave only cross-image positives from the bank); the two are
    interleaved so that each gets its share of labelled pixels. Depends on
    the shapes only, and no mask selects (which would read the device)."""
    a = anchors if drawn >= anchors + candidates else min(
        max(drawn - 1, 0),
        max(1, round(drawn * anchors / (anchors + candidates))))
    c = drawn - a
    # two complementary Beatty sequences: anchor k at floor(k d / a),
    # candidate j at ceil((j + 1) d / c) - 1
    k = torch.arange(a, device=device)
    j = torch.arange(c, device=device)
    return (k * drawn // max(a, 1),
            ((j + 1) * drawn + c - 1) // max(c, 1) - 1)


def _points(features: torch.Tensor, flat: torch.Tensor,
            size: tuple[int, int]) -> torch.Tensor:
    """Unit features (``P x C``) at flat pixel indices of an ``N x H x W``
    grid, bilinearly sampled from ``features`` (``N x C x h x w``)."""
    h, w = size
    n, y, x = flat // (h * w), (flat // w) % h, flat % w
    if features.shape[2:] == (h, w):
        picked = features[n, :, y, x]
    else:  # sample only the chosen pixels, never the full-resolution map
        picked = sample_points(features, n, torch.stack(
            [(x + 0.5) / w * 2 - 1, (y + 0.5) / h * 2 - 1], dim=-1))
    return F.normalize(picked, dim=1)


@MODELS.register_module()
class AuxLabelContrast(MomentumEncoderMixin, BaseSelfSupervised):
    """Pixel contrast guided by auxiliary labels (Zhang et al., NeurIPS
    2021, sec. 3): a stock MMSeg segmentation network whose classifiers
    output a ``embed_dim``-channel embedding at 1/8 resolution (the decode
    head and, for mid-level features, the auxiliary head).

    Each iteration draws ``num_anchors`` labelled pixels of the batch as
    anchors (online network, with gradient) and a different set of
    ``num_batch_candidates`` as contrast candidates from the momentum
    encoder (the paper: "a different set of 40 000 feature vectors"; both
    in proportion where a level has fewer pixels, :func:`split_draw`),
    joined by a **memory bank** of the momentum features of recent images
    (``bank_size`` rows, ``bank_per_image`` pixels pushed per image, all
    ranks gathered). The loss (:class:`AuxLabelContrastLoss`) is computed at
    1/8 and at the input resolution (equal weights) and, with an auxiliary
    head, on its embedding too (``aux_weight``).

    Every sample has a fixed size (the largest of one random key per
    pixel): where a batch has fewer labelled pixels, the rest are padding
    rows with label -1, which take part in no pair, in the loss as in the
    bank. Global image ids (the step counter times the global batch, plus
    the rank's offset) tell pairs of one image from cross-image pairs, also
    against bank entries from past batches. Nothing in the step reads a
    value back from the device.

    The whole step::

        q = heads(backbone(x)); k = key_heads(x)         # 1/8, no grad for k
        for each level (1/8, full resolution, auxiliary head):
            anchors, candidates ~ labelled pixels (disjoint); of q and k
            loss += head(anchors, candidates + bank)     # eqs. 1-2
        bank <- bank_per_image pixels of k per image     # all ranks

    Args:
        backbone / decode_head / auxiliary_head: MMSeg configs (DeepLabV3 or
            PSPNet) whose ``num_classes`` is ``embed_dim``.
        head: :class:`AuxContrastHead` config (the loss).
        embed_dim: Embedding channels (128).
        num_anchors: Anchors per iteration (10 000).
        num_batch_candidates: Candidates from the batch (10 000).
        bank_size: Memory-bank rows (30 000).
        bank_per_image: Pixels of each image pushed into the bank (the
            paper keeps 384 frames: 30 000 / 384 ~ 78).
        momentum: m of the key encoder (0.999).
        full_resolution: Also the loss at the input resolution.
        aux_weight: Weight of the auxiliary head's loss.
        seed: Base seed of the per-iteration sampling.
    """

    FEATURE_PARTS = {'backbone': ('backbone', ),
                     'decoder': ('backbone', 'decode_head'),
                     'embedding': ('backbone', 'decode_head')}
    default_feature = 'embedding'

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 auxiliary_head: dict | None = None,
                 head: dict = dict(type='AuxContrastHead'),
                 embed_dim: int = 128,
                 num_anchors: int = 10000,
                 num_batch_candidates: int = 10000,
                 bank_size: int = 30000,
                 bank_per_image: int = 78,
                 momentum: float = 0.999,
                 full_resolution: bool = True,
                 aux_weight: float = 0.4,
                 seed: int = 0,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        for config in (decode_head, auxiliary_head):
            if config is not None:
                check_num_classes(config, embed_dim, 'the embedding')
        super().__init__(backbone, head=head, seed=seed,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.decode_head = MODELS.build(decode_head)
        self.auxiliary_head = None if auxiliary_head is None else \
            MODELS.build(auxiliary_head)
        self.num_anchors = num_anchors
        self.num_batch_candidates = num_batch_candidates
        self.bank_per_image = bank_per_image
        self.full_resolution = full_resolution
        self.aux_weight = aux_weight
        self.build_momentum_encoder(momentum)
        fields = {'feats': ((embed_dim, ), torch.float32),
                  'labels': ((), torch.long), 'superpixels': ((), torch.long),
                  'images': ((), torch.long)}
        self.bank = FeatureQueue(bank_size, fields)
        self.aux_bank = FeatureQueue(bank_size, fields) \
            if auxiliary_head is not None else None

    @property
    def online_encoder(self) -> nn.Module:
        parts = dict(backbone=self.backbone, decode_head=self.decode_head)
        if self.auxiliary_head is not None:
            parts['auxiliary_head'] = self.auxiliary_head
        return nn.ModuleDict(parts)

    @staticmethod
    def _embed(encoder: nn.Module, inputs: torch.Tensor) -> list:
        """Embeddings of the decode head (and auxiliary head), 1/8."""
        feats = encoder.backbone(inputs)
        out = [encoder.decode_head(feats)]
        if getattr(encoder, 'auxiliary_head', None) is not None:
            out.append(encoder.auxiliary_head(feats))
        return out

    def head_features(self, feats, kind: str) -> torch.Tensor:
        """``decoder`` (the decode head's features before its classifier)
        or ``embedding`` (unit length), at 1/8."""
        if kind == 'decoder':
            return self.decode_head._forward_feature(feats)
        return F.normalize(self.decode_head(feats), dim=1)

    @staticmethod
    def _targets(data_samples: list) -> tuple[torch.Tensor, torch.Tensor]:
        """Labels and superpixels of the batch (padded to the input size by
        :class:`AuxLabelDataPreProcessor`: 255 and -1)."""
        labels = torch.stack([s.gt_sem_seg.data[0] for s in data_samples])
        superpixels = torch.stack([s.gt_superpixels.data[0]
                                   for s in data_samples])
        return labels.long(), superpixels.to(labels.device).long()

    @staticmethod
    def _meta(flat: torch.Tensor, labelled: torch.Tensor,
              labels: torch.Tensor, superpixels: torch.Tensor,
              first_image: int) -> PixelMeta:
        """The pixels' meta; padding rows (not ``labelled``) get label -1."""
        h, w = labels.shape[1:]
        label = labels.flatten()[flat].masked_fill(~labelled, -1)
        return PixelMeta(label, superpixels.flatten()[flat],
                         flat // (h * w) + first_image, flat)

    def _level_loss(self, query: torch.Tensor, key: torch.Tensor,
                    labels: torch.Tensor, superpixels: torch.Tensor,
                    bank: FeatureQueue, first_image: int,
                    generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        size = labels.shape[1:]
        # anchors and batch candidates: one draw, so two different sets
        flat, labelled = sample_pixels(
            labels.flatten(), self.num_anchors + self.num_batch_candidates,
            generator)
        a_at, c_at = split_draw(len(flat), self.num_anchors,
                                self.num_batch_candidates, flat.device)
        anchors, batch = flat[a_at], flat[c_at]
        a_meta = self._meta(anchors, labelled[a_at], labels, superpixels,
                            first_image)
        c_meta = self._meta(batch, labelled[c_at], labels, superpixels,
                            first_image)
        with torch.no_grad():
            c_feats = _points(key, batch, size)
        # every bank row: the rows not yet written have label -1
        candidates = torch.cat([c_feats, bank.get('feats').to(c_feats)])
        c_meta = PixelMeta(  # bank rows are never an anchor pixel: id -1
            torch.cat([c_meta.label, bank.get('labels')]),
            torch.cat([c_meta.superpixel, bank.get('superpixels')]),
            torch.cat([c_meta.image, bank.get('images')]),
            torch.cat([c_meta.pixel,
                       c_meta.pixel.new_full((bank.size, ), -1)]))
        return self.head.loss(_points(query, anchors, size), a_meta,
                              candidates, c_meta)

    def _push(self, bank: FeatureQueue, key: torch.Tensor,
              labels: torch.Tensor, superpixels: torch.Tensor,
              first_image: int, generator: torch.Generator) -> None:
        """``bank_per_image`` pixels of each image (padding rows, label -1,
        where an image has fewer labelled pixels), all ranks gathered."""
        within, labelled = sample_pixels(labels.flatten(1),
                                         self.bank_per_image,
                                         generator)  # N x bank_per_image
        offsets = torch.arange(len(labels), device=labels.device)[:, None]
        flat = (within + offsets * labels[0].numel()).flatten()
        meta = self._meta(flat, labelled.flatten(), labels, superpixels,
                          first_image)
        bank.push(feats=_points(key, flat, labels.shape[1:]),
                  labels=meta.label, superpixels=meta.superpixel,
                  images=meta.image)

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        labels, superpixels = self._targets(data_samples)
        generator = self.generator(inputs.device)
        # global image ids: every rank's batch has len(inputs) images
        first_image = (self._host_step * get_world_size() + get_rank()) * \
            len(inputs)
        queries = self._embed(self, inputs)
        with torch.no_grad():
            keys = self._embed(self.momentum_encoder.module, inputs)
        low = tuple(queries[0].shape[2:])
        low_labels = F.interpolate(labels[:, None].float(), size=low,
                                   mode='nearest')[:, 0].long()
        low_sp = F.interpolate(superpixels[:, None].float(), size=low,
                               mode='nearest')[:, 0].long()
        losses = {}
        losses['loss_contrast'], counts = self._level_loss(
            queries[0], keys[0], low_labels, low_sp, self.bank, first_image,
            generator)
        if self.full_resolution:
            losses['loss_contrast_full'], _ = self._level_loss(
                queries[0], keys[0], labels, superpixels, self.bank,
                first_image, generator)
        # every embedding level reaches the loss, also in a batch without a
        # labelled pixel
        losses['loss_contrast'] = losses['loss_contrast'] + zero_loss(
            *queries)
        if self.auxiliary_head is not None:
            aux, _ = self._level_loss(queries[1], keys[1], low_labels, low_sp,
                                      self.aux_bank, first_image, generator)
            losses['loss_contrast_aux'] = self.aux_weight * aux
        with torch.no_grad():
            self._push(self.bank, keys[0], low_labels, low_sp, first_image,
                       generator)
            if self.auxiliary_head is not None:
                self._push(self.aux_bank, keys[1], low_labels, low_sp,
                           first_image, generator)
        self.advance_step()
        for name in STAT_NAMES:
            losses[name] = counts[name].float()
        losses['bank_rows'] = self.bank.count.float()
        return losses
