"""Per-iteration random draws that a resumed run repeats exactly."""
from __future__ import annotations

import torch
from mmengine.dist import get_rank


def step_generator(seed: int, step: int) -> torch.Generator:
    """A CPU generator seeded by the base ``seed``, a step counter kept in
    the model's buffers, and the rank (ranks draw differently)."""
    return torch.Generator().manual_seed(
        (seed * 1_000_003 + int(step)) * 1_009 + get_rank())
