"""The 'mix' step of Mix-and-Match tuning (Zhan et al., AAAI 2018): square
patches of various sizes from every labelled image of a batch, labelled by
their centre pixel, resized to one size and mixed into one set."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Patches:
    """A mixed set of patches from a batch."""
    images: torch.Tensor  # P x C x S x S
    labels: torch.Tensor  # P
    boxes: torch.Tensor  # P x 4, (x0, y0, x1, y1) in pixels, exclusive end
    image_index: torch.Tensor  # P, which batch image each came from


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of every box of ``a`` with every box of ``b`` (x0, y0, x1, y1)."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    return inter / (area_a[:, None] + area_b[None] - inter)


class PatchSampler:
    """Sample, label and crop patches.

    Per image: ``num_candidates`` square boxes with sides uniform in
    ``[min_size, max_size]`` (clipped to the image) at uniform positions;
    a candidate whose centre is void is discarded; at most
    ``background_patches`` candidates whose centre is background are kept
    (the authors take one per image), the others must show a class; kept in
    random order unless a candidate overlaps an already kept patch of the
    same image by more than ``max_overlap`` (IoU), until
    ``patches_per_image``. A patch's label is its centre pixel's class. All
    patches of the batch are cropped and resized to ``out_size`` by a single
    bilinear ``grid_sample`` call.

    Args:
        patches_per_image: Patches kept per image (10 in the paper).
        min_size / max_size: Side range in pixels (64-256 at 512 crops).
        out_size: Side of the resized patches (128 in the paper).
        max_overlap: Largest IoU with an already kept patch (0.6).
        background_patches: Background-centred patches per image (1).
        background_index: The background class.
        ignore_index: Void label (never a patch label).
        num_candidates: Boxes drawn per image before selection.
    """

    def __init__(self,
                 patches_per_image: int = 10,
                 min_size: int = 64,
                 max_size: int = 256,
                 out_size: int = 128,
                 max_overlap: float = 0.6,
                 background_patches: int = 1,
                 background_index: int = 0,
                 ignore_index: int = 255,
                 num_candidates: int = 50) -> None:
        if not 0 < min_size <= max_size:
            raise ValueError(f'need 0 < min_size <= max_size, got '
                             f'{min_size}, {max_size}')
        self.patches_per_image = patches_per_image
        self.min_size = min_size
        self.max_size = max_size
        self.out_size = out_size
        self.max_overlap = max_overlap
        self.background_patches = background_patches
        self.background_index = background_index
        self.ignore_index = ignore_index
        self.num_candidates = num_candidates

    def _candidates(self, label: torch.Tensor, generator: torch.Generator
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = label.shape
        k = self.num_candidates
        high = min(self.max_size, h, w)
        low = min(self.min_size, high)
        sides = torch.randint(low, high + 1, (k, ), generator=generator)
        x0 = (torch.rand(k, generator=generator) * (w - sides + 1)).long()
        y0 = (torch.rand(k, generator=generator) * (h - sides + 1)).long()
        boxes = torch.stack([x0, y0, x0 + sides, y0 + sides], 1)
        centre = label[y0 + sides // 2, x0 + sides // 2]
        return boxes, centre

    def _select(self, boxes: torch.Tensor, centre: torch.Tensor,
                generator: torch.Generator) -> torch.Tensor:
        valid = centre != self.ignore_index
        background = valid & (centre == self.background_index)
        order = torch.randperm(len(boxes), generator=generator)
        iou = box_iou(boxes.float(), boxes.float())
        kept: list[int] = []
        num_background = 0
        for i in order.tolist():
            if len(kept) == self.patches_per_image:
                break
            if not valid[i]:
                continue
            if background[i] and num_background >= self.background_patches:
                continue
            if kept and iou[i, kept].max() > self.max_overlap:
                continue
            kept.append(i)
            num_background += int(background[i])
        return torch.tensor(kept, dtype=torch.long)

    def _grids(self, boxes: torch.Tensor, height: int,
               width: int) -> torch.Tensor:
        """Sampling grids (``K x S x S x 2``, normalised, align_corners
        False) that map each output pixel into its box."""
        steps = (torch.arange(self.out_size, dtype=torch.float32) +
                 0.5) / self.out_size
        x0, y0, x1, y1 = boxes.float().unbind(1)
        xs = x0[:, None] + steps[None] * (x1 - x0)[:, None]  # K x S pixels
        ys = y0[:, None] + steps[None] * (y1 - y0)[:, None]
        gx = xs / width * 2 - 1
        gy = ys / height * 2 - 1
        return torch.stack(torch.broadcast_tensors(
            gx[:, None, :], gy[:, :, None]), dim=-1)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor,
                 generator: torch.Generator | None = None) -> Patches:
        """Patches of ``images`` (``N x C x H x W``) and their labels from
        ``labels`` (``N x H x W``)."""
        generator = generator or torch.Generator().manual_seed(0)
        n, c, h, w = images.shape
        per_image = []
        for i in range(n):
            boxes, centre = self._candidates(labels[i].cpu(), generator)
            keep = self._select(boxes, centre, generator)
            per_image.append((boxes[keep], centre[keep]))
        count = max(len(b) for b, _ in per_image)
        s = self.out_size
        if count == 0:
            empty = images.new_zeros((0, c, s, s))
            return Patches(empty, labels.new_zeros(0), labels.new_zeros(0, 4),
                           labels.new_zeros(0))
        # one grid per image: its patches stacked along the output height;
        # images with fewer patches repeat their first box (dropped below)
        grids, valid = [], []
        for boxes, _ in per_image:
            padded = boxes if len(boxes) else torch.zeros(1, 4, dtype=torch.long)
            padded = torch.cat([padded, padded[:1].expand(
                count - len(padded), 4)]) if len(padded) < count else padded
            grids.append(self._grids(padded, h, w).reshape(count * s, s, 2))
            valid.append(torch.arange(count) < len(boxes))
        grid = torch.stack(grids).to(images)
        crops = F.grid_sample(images, grid, mode='bilinear',
                              padding_mode='border', align_corners=False)
        crops = crops.view(n, c, count, s, s).transpose(1, 2).reshape(
            n * count, c, s, s)
        valid = torch.cat(valid)
        return Patches(
            images=crops[valid.to(images.device)],
            labels=torch.cat([lab for _, lab in per_image]).to(labels.device),
            boxes=torch.cat([b for b, _ in per_image]).to(labels.device),
            image_index=torch.cat([
                torch.full((len(b), ), i, dtype=torch.long)
                for i, (b, _) in enumerate(per_image)
            ]).to(labels.device))
