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


class PatchSampler:
    """Sample, label and crop patches as the authors' code does
    (``create_patch.createRandomPatchImg``).

    Per image, ``patches_per_image - background_patches`` patches are
    centred on foreground pixels and ``background_patches`` on background
    pixels (the authors: 9 + 1), each centre drawn uniformly among those
    pixels, ``candidates_per_patch`` candidates per wanted patch. Sides are
    even and uniform in ``[min_size, max_size]``; a patch may reach over the
    image border (the outside is filled with zeros, the mean colour after
    normalisation). Foreground candidates are kept in drawn order unless the
    patches kept so far already cover more than ``max_overlap`` of them;
    if fewer than wanted survive, skipped candidates top them up, so an
    image always gives ``patches_per_image`` patches (a graph of 160 nodes
    for 16 images). Without foreground pixels the foreground patches come
    from the background and vice versa; void pixels are never centres, and
    an image of void only gives none. A patch's label is its centre pixel's
    class. All patches of the batch are cropped and resized to ``out_size``
    by a single bilinear ``grid_sample`` call.

    Args:
        patches_per_image: Patches per image (10 in the paper).
        min_size / max_size: Side range in pixels (64-256 at 512 crops).
        out_size: Side of the resized patches (128 in the paper).
        max_overlap: Largest fraction of a foreground candidate already
            covered by kept patches (0.6).
        background_patches: Background-centred patches per image (1); 0
            draws every centre among all labelled pixels.
        background_index: The background class (ignored when
            ``background_patches`` is 0).
        ignore_index: Void label (never a patch centre).
        candidates_per_patch: Candidates drawn per wanted patch (5).
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
                 candidates_per_patch: int = 5) -> None:
        if not 0 < min_size <= max_size:
            raise ValueError(f'need 0 < min_size <= max_size, got '
                             f'{min_size}, {max_size}')
        if not 0 <= background_patches <= patches_per_image:
            raise ValueError('background_patches must be in [0, '
                             f'{patches_per_image}], got {background_patches}')
        self.patches_per_image = patches_per_image
        self.min_size = min_size
        self.max_size = max_size
        self.out_size = out_size
        self.max_overlap = max_overlap
        self.background_patches = background_patches
        self.background_index = background_index
        self.ignore_index = ignore_index
        self.candidates_per_patch = candidates_per_patch

    def _draw(self, pixels: torch.Tensor, count: int,
              generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        """``count`` centres (uniform among ``pixels``, ``P x 2`` y, x) and
        even sides."""
        pick = torch.randint(0, len(pixels), (count, ), generator=generator)
        sides = torch.randint(self.min_size, self.max_size + 1, (count, ),
                              generator=generator) // 2 * 2
        return pixels[pick], sides

    def _select(self, label: torch.Tensor,
                generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        """Boxes (``K x 4``, x0, y0, x1, y1, may cross the border) and
        labels of one image's patches."""
        valid = label != self.ignore_index
        if self.background_patches:
            background = valid & (label == self.background_index)
            foreground = valid & ~background
        else:
            background = torch.zeros_like(valid)
            foreground = valid
        fg_pixels, bg_pixels = foreground.nonzero(), background.nonzero()
        if len(fg_pixels) == 0:
            fg_pixels = bg_pixels
        if len(bg_pixels) == 0:
            bg_pixels = fg_pixels
        if len(fg_pixels) == 0:  # void only
            return torch.zeros(0, 4, dtype=torch.long), label.new_zeros(0)
        n_bg = self.background_patches
        n_fg = self.patches_per_image - n_bg
        fg_centres, fg_sides = self._draw(
            fg_pixels, self.candidates_per_patch * n_fg, generator)
        bg_centres, bg_sides = self._draw(
            bg_pixels, self.candidates_per_patch * n_bg, generator)
        h, w = label.shape
        covered = torch.zeros(h, w, dtype=torch.bool)
        kept, skipped = [], []
        for i, ((cy, cx), side) in enumerate(zip(fg_centres.tolist(),
                                                 fg_sides.tolist())):
            if len(kept) == n_fg:
                break
            y0, x0 = max(0, cy - side // 2), max(0, cx - side // 2)
            y1, x1 = min(h, cy + side // 2), min(w, cx + side // 2)
            if covered[y0:y1, x0:x1].sum() > self.max_overlap * side * side:
                skipped.append(i)
                continue
            covered[y0:y1, x0:x1] = True
            kept.append(i)
        kept += skipped[:n_fg - len(kept)]  # top up, as the authors do
        centres = torch.cat([fg_centres[kept], bg_centres[:n_bg]])
        sides = torch.cat([fg_sides[kept], bg_sides[:n_bg]])
        cy, cx = centres.unbind(1)
        boxes = torch.stack([cx - sides // 2, cy - sides // 2,
                             cx + sides // 2, cy + sides // 2], 1)
        return boxes, label[cy, cx]

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
        per_image = [self._select(labels[i].cpu(), generator)
                     for i in range(n)]
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
            padded = boxes if len(boxes) else torch.zeros(1, 4,
                                                          dtype=torch.long)
            padded = torch.cat([padded, padded[:1].expand(
                count - len(padded), 4)]) if len(padded) < count else padded
            grids.append(self._grids(padded, h, w).reshape(count * s, s, 2))
            valid.append(torch.arange(count) < len(boxes))
        grid = torch.stack(grids).to(images)
        crops = F.grid_sample(images, grid, mode='bilinear',
                              padding_mode='zeros', align_corners=False)
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
