"""Per-iteration random draws that a resumed run repeats exactly."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from mmengine.dist import get_rank


def step_seed(seed: int, step: int) -> int:
    """A seed from the base ``seed``, a step counter kept in the model's
    buffers, and the rank (ranks draw differently)."""
    return (seed * 1_000_003 + int(step)) * 1_009 + get_rank()


def step_generator(seed: int, step: int) -> torch.Generator:
    """A CPU generator seeded by :func:`step_seed`."""
    return torch.Generator().manual_seed(step_seed(seed, step))


@contextlib.contextmanager
def step_randomness(seed: int, step: int) -> Iterator[None]:
    """Run a block (e.g. a forward pass with dropout) on torch's global
    generators seeded by :func:`step_seed`, and restore them afterwards: a
    resumed run draws the dropout masks the unbroken run drew, and the rest
    of the program's randomness is untouched."""
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() \
        else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(step_seed(seed, step))
        yield
