"""Features at chosen points of a batch of maps, without building any
resampled full map (the pixel-contrast methods sample a few thousand
points of a grid)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def sample_points(features: torch.Tensor, image: torch.Tensor,
                  grid: torch.Tensor) -> torch.Tensor:
    """Bilinear samples (``P x C``) of ``features`` (``N x C x h x w``) at
    ``grid`` (``P x 2``, x then y in [-1, 1], ``align_corners=False``) in
    the map ``image`` (``P``) of each point; outside points take the border
    value."""
    grid = grid.to(features)
    image = image.to(features.device)
    out = features.new_zeros(len(image), features.shape[1])
    for i in range(len(features)):
        mine = (image == i).nonzero()[:, 0]
        if len(mine):
            out[mine] = F.grid_sample(
                features[i:i + 1], grid[mine][None, :, None],
                mode='bilinear', padding_mode='border',
                align_corners=False)[0, :, :, 0].T
    return out
