from __future__ import annotations

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn

from mmssl_seg.models.utils.zero_loss import zero_loss


def mask_prototypes(embeddings: torch.Tensor,
                    masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. (2): the mean embedding of each image's salient pixels,
    L2-normalised (Algorithm 1: ``normalize(bmm(k, s_k))``), as one masked
    sum over the whole maps (no size depends on the data).

    Args:
        embeddings: ``N x D x H x W``, L2-normalised per pixel.
        masks: ``N x H x W`` (0/1).

    Returns:
        ``N x D`` prototypes and an ``N`` bool tensor: True where the image
        has at least one salient pixel (the others are zero vectors).
    """
    summed = torch.einsum('ndhw,nhw->nd', embeddings,
                          masks.to(embeddings.dtype))
    return F.normalize(summed, dim=1), masks.flatten(1).bool().any(1)


def upsampled_pixels(maps: torch.Tensor, masks: torch.Tensor,
                     normalize: bool = True
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """``maps`` upsampled bilinearly to the masks' size and L2-normalised,
    computed at the masks' nonzero pixels only: the same values as
    ``F.normalize(F.interpolate(maps, size, mode='bilinear',
    align_corners=False), dim=1)`` there, without the full-resolution map
    (the evaluation's object embeddings; a training step computes whole
    maps, whose sizes never depend on the data).

    Args:
        maps: ``N x D x h x w``.
        masks: ``N x H x W`` (0/1).
        normalize: L2-normalise each pixel (``False``: the upsampled values).

    Returns:
        ``P x D`` pixel values in ``masks.nonzero()`` order and their image
        indices (``P``).
    """
    n, y, x = masks.nonzero(as_tuple=True)
    (h, w), (big_h, big_w) = maps.shape[2:], masks.shape[1:]
    exact = torch.promote_types(maps.dtype, torch.float32)

    def source(dst: torch.Tensor, size: int, big: int) -> tuple:
        # PyTorch's source index for align_corners=False, in >= float32
        pos = ((dst.to(exact) + 0.5) * (size / big) - 0.5).clamp(min=0)
        low = pos.floor().long().clamp(max=size - 1)
        return low, (low + 1).clamp(max=size - 1), (pos - low)[:, None]

    y0, y1, ly = source(y, h, big_h)
    x0, x1, lx = source(x, w, big_w)
    flat = maps.permute(0, 2, 3, 1).to(exact)  # N x h x w x D
    value = ((1 - ly) * ((1 - lx) * flat[n, y0, x0] + lx * flat[n, y0, x1])
             + ly * ((1 - lx) * flat[n, y1, x0] + lx * flat[n, y1, x1]))
    value = value.to(maps.dtype)
    return (F.normalize(value, dim=1) if normalize else value), n


def pixel_prototypes(pixels: torch.Tensor, image_ids: torch.Tensor,
                     num_images: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`mask_prototypes` from the salient pixels' embeddings
    (:func:`upsampled_pixels`) instead of whole maps."""
    summed = pixels.new_zeros(num_images, pixels.shape[1]).index_add_(
        0, image_ids, pixels)
    return F.normalize(summed, dim=1), torch.bincount(
        image_ids, minlength=num_images) > 0


@MODELS.register_module()
class MaskContrastLoss(nn.Module):
    """MaskContrast's pixel-to-prototype contrastive loss (Van Gansbeke et
    al., ICCV 2021, eq. 3 and Algorithm 1).

    For every salient pixel ``i`` of query image ``n``:

        L_i = -log exp(z_i . p_n / tau) / sum_{k in batch + queue}
              exp(z_i . p_k / tau)

    where ``p_n`` is the key prototype of the same image (another augmented
    view, eq. 2), the other images' key prototypes of the batch and the
    ``K`` queued prototypes are the negatives. Background pixels are not
    contrasted. The loss is the mean over salient pixels.

    The authors' code balances the images (``balance_images=True``): each
    pixel's term is weighted by the E-Net class weight of its image,
    ``w_n = 1 / ln(1.02 + p_n)`` with ``p_n`` the share of the contrasted
    pixels that lie in image ``n``, and the loss is ``sum w l / sum w``
    (their ``cross_entropy(..., weight=w)``). Images with a small object
    thus count more. The paper's form, the default here, weighs pixels
    equally.

    Pixels whose own key prototype is undefined (no salient pixel in the key
    view) have no positive and are left out; with no pixel left the loss is
    0 (defined, with a zero gradient), never NaN.

    Args:
        temperature: tau (0.5 in the paper).
        balance_images: Average per image first, then over images.
        loss_weight: Scale of the loss.
    """

    def __init__(self, temperature: float = 0.5, balance_images: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = temperature
        self.balance_images = balance_images
        self.loss_weight = loss_weight

    def forward(self, query: torch.Tensor, query_masks: torch.Tensor,
                prototypes: torch.Tensor, prototype_valid: torch.Tensor,
                negatives: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """
        Args:
            query: ``N x D x H x W`` query embeddings, L2-normalised.
            query_masks: ``N x H x W`` saliency of the query view (0/1).
            prototypes: ``N x D`` key prototypes (no gradient flows to them).
            prototype_valid: ``N`` bool, from :func:`mask_prototypes`.
            negatives: ``K x D`` queued prototypes.

        Returns:
            The loss and statistics as 0-d tensors (``pixels``: contrasted
            pixels, ``dropped``: salient pixels without a positive).

        Every pixel's term is computed and weighted by its mask (0 outside
        the object or without a positive), so no shape depends on the data
        and nothing is read back to the host.
        """
        n, d, h, w = query.shape
        logits = self._logits(query.permute(0, 2, 3, 1).reshape(n * h * w, d),
                              prototypes, negatives)
        own = torch.arange(n, device=query.device).repeat_interleave(
            h * w, output_size=n * h * w)
        losses = F.cross_entropy(logits, own, reduction='none').view(n, h, w)
        salient = query_masks.to(losses.dtype)
        weights = salient * prototype_valid.to(losses.dtype).view(n, 1, 1)
        pixels = weights.sum()
        stats = {'pixels': pixels, 'dropped': salient.sum() - pixels}
        if self.balance_images:
            share = weights.flatten(1).sum(1) / pixels.clamp(min=1)
            weights = weights / torch.log(1.02 + share).view(n, 1, 1)
        loss = (losses * weights).sum() / weights.sum().clamp(min=1e-12)
        return self.loss_weight * loss, stats

    def _logits(self, pixels: torch.Tensor, prototypes: torch.Tensor,
                negatives: torch.Tensor) -> torch.Tensor:
        """``pixels x keys`` logits, 1/tau folded into the keys: the matmul
        may run in half precision under AMP, the cross-entropy (log-sum-exp
        minus the own key's logit) in float32."""
        keys = torch.cat([prototypes, negatives]).detach().to(pixels.dtype)
        logits = pixels @ (keys / self.temperature).T
        return logits.to(torch.promote_types(logits.dtype, torch.float32))

    def from_pixels(self, pixels: torch.Tensor, image_ids: torch.Tensor,
                    prototypes: torch.Tensor, prototype_valid: torch.Tensor,
                    negatives: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """:meth:`forward` from the salient query pixels alone (``P x D``,
        unit length, and their image indices: :func:`upsampled_pixels`):
        the same loss and gradients with a fraction of the work, but sizes
        that depend on the masks (the host reads them: the CPU path)."""
        n = len(prototypes)
        keep = prototype_valid[image_ids]
        stats = {'pixels': keep.sum().float(),
                 'dropped': (~keep).sum().float()}
        targets, pixels = image_ids[keep], pixels[keep]
        if len(pixels) == 0:  # a defined 0 that still has a graph
            return zero_loss(pixels), stats
        losses = F.cross_entropy(self._logits(pixels, prototypes, negatives),
                                 targets, reduction='none')
        weights = torch.ones_like(losses)
        if self.balance_images:
            share = torch.bincount(targets, minlength=n).to(
                losses.dtype) / len(targets)
            weights = (1.0 / torch.log(1.02 + share))[targets]
        loss = (losses * weights).sum() / weights.sum()
        return self.loss_weight * loss, stats


@MODELS.register_module()
class SaliencyBCELoss(nn.Module):
    """The saliency head's binary cross-entropy (MaskContrast sec. 3.3: it
    keeps the embeddings from collapsing to one vector per image).

    ``balanced=True`` is the authors' code: the class-balanced form of HED,
    where positives are weighted by the fraction of negative pixels in the
    batch and negatives by the fraction of positives. The default is the
    plain mean BCE of Algorithm 1.

    Args:
        balanced: Use the class-balanced weighting.
        loss_weight: Scale of the loss.
    """

    def __init__(self, balanced: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.balanced = balanced
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        target = target.to(logits.dtype)
        if not self.balanced:
            return self.loss_weight * F.binary_cross_entropy_with_logits(
                logits, target)
        positive = target.sum() / target.numel()
        weights = torch.where(target > 0.5, 1.0 - positive, positive)
        loss = F.binary_cross_entropy_with_logits(
            logits, target, weight=weights, reduction='sum') / target.numel()
        return self.loss_weight * loss
