"""Features at chosen points of a batch of maps, without building any
resampled full map (the pixel-contrast methods sample a few thousand
points of a grid), in one call for the whole batch."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def sample_points(features: torch.Tensor, image: torch.Tensor,
                  grid: torch.Tensor) -> torch.Tensor:
    """Bilinear samples (``P x C``) of ``features`` (``N x C x h x w``) at
    ``grid`` (``P x 2``, x then y in [-1, 1]) in the map ``image`` (``P``)
    of each point: what ``F.grid_sample(..., mode='bilinear',
    padding_mode='border', align_corners=False)`` gives there, as one
    gather of the four neighbours. Coordinates and weights are computed in
    at least float32 (in bfloat16 a pixel coordinate can be off by a few
    tenths)."""
    n, c, h, w = features.shape
    exact = torch.promote_types(grid.dtype, torch.float32)
    grid = grid.to(device=features.device, dtype=exact)
    image = image.to(features.device)
    # grid_sample's pixel coordinates, clamped to the border
    x = ((grid[:, 0] + 1) * w - 1).mul(0.5).clamp(0, w - 1)
    y = ((grid[:, 1] + 1) * h - 1).mul(0.5).clamp(0, h - 1)
    x0, y0 = x.floor().long(), y.floor().long()
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
    wx, wy = (x - x0)[:, None], (y - y0)[:, None]
    rows = features.permute(0, 2, 3, 1).reshape(n * h * w, c)
    base = image * (h * w)

    def at(yy, xx):
        return rows[base + yy * w + xx].to(exact)

    value = ((1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) +
             wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1)))
    return value.to(features.dtype)


def sample_grouped_points(features: torch.Tensor,
                          grid: torch.Tensor) -> torch.Tensor:
    """Bilinear samples (``N x P x C``) of each map of ``features`` (``N x
    C x h x w``) at its own ``P`` points ``grid`` (``N x P x 2``, x then y
    in [-1, 1]; border padding, align_corners False): one ``grid_sample``
    in at least float32 (coordinates and weights exact under AMP)."""
    exact = torch.promote_types(features.dtype, torch.float32)
    samples = F.grid_sample(features.to(exact),
                            grid.to(device=features.device,
                                    dtype=exact)[:, :, None],
                            mode='bilinear', padding_mode='border',
                            align_corners=False)  # N x C x P x 1
    return samples[..., 0].transpose(1, 2).to(features.dtype)
