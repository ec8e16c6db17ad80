"""Per-iteration random draws that a resumed run repeats exactly, without
reading the step counter back from the device (the host keeps a mirror of
it, :class:`~mmssl_seg.models.algorithms.base.BaseSelfSupervised`)."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from mmengine.dist import get_rank


def step_seed(seed: int, step: int) -> int:
    """A seed from the base ``seed``, the step (a Python int: the host's
    mirror of the model's counter) and the rank (ranks draw differently)."""
    return (seed * 1_000_003 + step) * 1_009 + get_rank()


def step_generator(seed: int, step: int,
                   device: torch.device | str = 'cpu') -> torch.Generator:
    """A generator on ``device`` seeded by :func:`step_seed`: the step's
    draws happen where their results are used (no host round trip)."""
    return torch.Generator(device=device).manual_seed(step_seed(seed, step))


@contextlib.contextmanager
def step_randomness(seed: int, step: int,
                    device: torch.device | str = 'cpu') -> Iterator[None]:
    """Run a block (e.g. a forward pass with dropout) on torch's global
    generators seeded by :func:`step_seed`, and restore them afterwards: a
    resumed run draws the dropout masks the unbroken run drew, and the rest
    of the program's randomness is untouched. On a CUDA ``device`` its
    generator is forked and seeded too."""
    device = torch.device(device)
    devices = [device.index if device.index is not None else
               torch.cuda.current_device()] if device.type == 'cuda' else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(step_seed(seed, step))  # every device's generator
        yield
