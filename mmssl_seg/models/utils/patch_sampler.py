"""The 'mix' step of Mix-and-Match tuning (Zhan et al., AAAI 2018): square
patches of various sizes from every labelled image of a batch, labelled by
their centre pixel, resized to one size and mixed into one set."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Patches:
    """A mixed set of ``P = N x patches_per_image`` patches from a batch of
    ``N`` images, in image order (an image's foreground patches, then its
    background ones). ``valid`` is False for the slots of an image of void
    only (their label is the ignore index)."""
    images: torch.Tensor  # P x C x S x S
    labels: torch.Tensor  # P
    boxes: torch.Tensor  # P x 4, (x0, y0, x1, y1) in pixels, exclusive end
    image_index: torch.Tensor  # P, which batch image each came from
    valid: torch.Tensor  # P, bool


def _uniform_pixels(mask: torch.Tensor, count: int,
                    generator: torch.Generator) -> torch.Tensor:
    """``N x count`` flat indices drawn uniformly with replacement among the
    True pixels of each ``mask`` (``N x H x W``); 0 where an image has
    none. The u-th True pixel is the first whose running count exceeds u."""
    flat = mask.flatten(1)
    running = flat.cumsum(1)
    total = running[:, -1:]
    u = (torch.rand(flat.shape[0], count, dtype=torch.float64,
                    generator=generator, device=mask.device) * total).long()
    u = torch.minimum(u, (total - 1).clamp(min=0))
    return torch.searchsorted(running, u, right=True).clamp(
        max=flat.shape[1] - 1)


class PatchSampler:
    """Sample, label and crop patches by the authors' rules
    (``create_patch.createRandomPatchImg`` of the official code), all images
    at once on the images' device, with shapes fixed by the batch size.

    Per image, ``patches_per_image - background_patches`` patches are
    centred on foreground pixels and ``background_patches`` on background
    pixels (the authors: 8 + 1 of 9; the paper: 10 per image, our default
    9 + 1), each centre drawn uniformly among those pixels,
    ``candidates_per_patch`` candidates per wanted foreground patch. Sides
    are even and uniform in ``[min_size, max_size]``; a patch may reach over
    the image border (filled with ``pad_value``). Foreground candidates are
    kept in drawn order unless the patches kept so far cover more than
    ``max_overlap`` of the *first* candidate's area inside its box (the
    authors' ``patchDeDup``); if fewer than wanted survive, skipped
    candidates top them up in drawn order, so an image always gives
    ``patches_per_image`` patches. Without foreground pixels the foreground
    patches come from the background and vice versa; void pixels are never
    centres and an image of void only gives invalid slots. A patch's label
    is its centre pixel's class (the authors label background patches 0
    even when they fell back to foreground centres). All patches are
    cropped and resized to ``out_size`` by one bilinear ``grid_sample``
    (half-pixel centres, as ``cv2.resize``).

    Args:
        patches_per_image: Patches per image (10 in the paper, 9 in the
            authors' prototxt).
        min_size / max_size: Side range in pixels (64-256 at 512 crops; the
            authors' Cityscapes prototxt fixes 128).
        out_size: Side of the resized patches (128 in the paper).
        max_overlap: Largest covered fraction of a foreground candidate
            (0.6).
        background_patches: Background-centred patches per image (1); 0
            draws every centre among all labelled pixels.
        background_index: The background class (0: VOC's background, and
            road in Cityscapes' train ids, as the authors' code takes it).
        ignore_index: Void label (never a patch centre).
        candidates_per_patch: Candidates drawn per wanted patch (5).
        pad_value: What lies outside the image, in the network's input
            space (0: the mean colour after normalisation; the authors'
            colorization path pads raw black, -0.4488 in its grey space).
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
                 candidates_per_patch: int = 5,
                 pad_value: float = 0.0) -> None:
        if not 0 < min_size <= max_size:
            raise ValueError(f'need 0 < min_size <= max_size, got '
                             f'{min_size}, {max_size}')
        if not 0 <= background_patches < patches_per_image:
            raise ValueError('background_patches must be in [0, '
                             f'{patches_per_image}), got {background_patches}')
        self.patches_per_image = patches_per_image
        self.min_size = min_size
        self.max_size = max_size
        self.out_size = out_size
        self.max_overlap = max_overlap
        self.background_patches = background_patches
        self.background_index = background_index
        self.ignore_index = ignore_index
        self.candidates_per_patch = candidates_per_patch
        self.pad_value = pad_value

    def _sides(self, n: int, count: int, generator: torch.Generator,
               device: torch.device) -> torch.Tensor:
        return torch.randint(self.min_size, self.max_size + 1, (n, count),
                             generator=generator, device=device) // 2 * 2

    def deduplicate(self, centres: torch.Tensor, sides: torch.Tensor,
                    size: tuple[int, int], wanted: int) -> torch.Tensor:
        """Indices (``N x wanted``) of the candidates (flat ``centres`` and
        ``sides``, ``N x count``) that the authors' greedy filter keeps, in
        drawn order, then the skipped ones in drawn order. As theirs, the
        filter runs over every candidate (the boxes kept past ``wanted``
        only affect candidates that are cut anyway)."""
        h, w = size
        n, count = sides.shape
        half = (sides // 2)[..., None]
        y, x = (centres // w)[..., None], (centres % w)[..., None]
        rows = torch.arange(h, device=sides.device)
        cols = torch.arange(w, device=sides.device)
        # every candidate's box, clipped to the image: N x count x H x W
        boxes = (((rows >= y - half) & (rows < y + half))[..., None] &
                 ((cols >= x - half) & (cols < x + half))[..., None, :])
        # "covered / first candidate's area > max_overlap" (float64, as
        # theirs) as an integer bound: the most covered pixels allowed
        first = (sides[:, 0] * sides[:, 0]).double()
        bound = (self.max_overlap * first).floor()
        bound = torch.where((bound + 1) / first <= self.max_overlap,
                            bound + 1, bound)
        bound = torch.where(bound / first <= self.max_overlap, bound,
                            bound - 1).long()
        covered = torch.zeros_like(boxes[:, 0])
        accepted = []
        for c in range(count):
            box = boxes[:, c]
            ok = (covered & box).sum((1, 2)) <= bound
            covered |= box & ok.view(n, 1, 1)
            accepted.append(ok)
        order = torch.arange(count, device=sides.device).expand(n, -1)
        order = torch.where(torch.stack(accepted, 1), order, order + count)
        return order.argsort(1)[:, :wanted]

    def _grid(self, boxes: torch.Tensor, size: tuple[int, int]
              ) -> torch.Tensor:
        """Sampling grid (``N x K*S x S x 2``, normalised, align_corners
        False) mapping each output pixel of the ``N x K`` boxes into its
        box; an image's patches are stacked along the output height."""
        h, w = size
        s = self.out_size
        steps = (torch.arange(s, device=boxes.device, dtype=torch.float32)
                 + 0.5) / s
        x0, y0, x1, y1 = boxes.float().unbind(-1)  # N x K
        xs = (x0[..., None] + steps * (x1 - x0)[..., None]) / w * 2 - 1
        ys = (y0[..., None] + steps * (y1 - y0)[..., None]) / h * 2 - 1
        n, k = x0.shape
        grid = torch.stack(torch.broadcast_tensors(
            xs[:, :, None, :], ys[:, :, :, None]), dim=-1)  # N x K x S x S x 2
        return grid.reshape(n, k * s, s, 2)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor,
                 generator: torch.Generator | None = None) -> Patches:
        """Patches of ``images`` (``N x C x H x W``) and their labels from
        ``labels`` (``N x H x W``), drawn with ``generator`` (on the
        images' device)."""
        device = images.device
        generator = generator or torch.Generator(device).manual_seed(0)
        n, c, h, w = images.shape
        k, n_bg = self.patches_per_image, self.background_patches
        n_fg = k - n_bg
        labelled = labels != self.ignore_index
        if n_bg:
            background = labelled & (labels == self.background_index)
            foreground = labelled & ~background
        else:
            background = foreground = labelled
        has_fg = foreground.flatten(1).any(1)[:, None, None]
        has_bg = background.flatten(1).any(1)[:, None, None]
        foreground, background = (torch.where(has_fg, foreground, background),
                                  torch.where(has_bg, background, foreground))
        wanted = self.candidates_per_patch * n_fg
        fg_centres = _uniform_pixels(foreground, wanted, generator)
        fg_sides = self._sides(n, wanted, generator, device)
        keep = self.deduplicate(fg_centres, fg_sides, (h, w), n_fg)
        centres = torch.cat([fg_centres.gather(1, keep),
                             _uniform_pixels(background, n_bg, generator)], 1)
        sides = torch.cat([fg_sides.gather(1, keep),
                           self._sides(n, n_bg, generator, device)], 1)
        y, x, half = centres // w, centres % w, sides // 2
        boxes = torch.stack([x - half, y - half, x + half, y + half], -1)
        valid = labelled.flatten(1).any(1)[:, None].expand(n, k)
        patch_labels = torch.where(
            valid, labels.flatten(1).gather(1, centres), self.ignore_index)
        # in fp32 (coordinates too, also under AMP); pad_value outside the
        # image: shift, sample with zero padding, shift back
        source = images.float() - self.pad_value
        crops = F.grid_sample(source, self._grid(boxes, (h, w)),
                              mode='bilinear', padding_mode='zeros',
                              align_corners=False)
        crops = (crops + self.pad_value).to(images.dtype)
        s = self.out_size
        crops = crops.view(n, c, k, s, s).transpose(1, 2).reshape(
            n * k, c, s, s)
        return Patches(
            images=crops, labels=patch_labels.reshape(-1),
            boxes=boxes.reshape(-1, 4),
            image_index=torch.arange(n, device=device).repeat_interleave(
                k, output_size=n * k),
            valid=valid.reshape(-1))
