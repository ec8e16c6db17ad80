"""One first-in-first-out queue for every method: MaskContrast's prototype
queue, the auxiliary-label method's memory bank of pixel features with their
labels, superpixel and image ids, MoCo-style negatives.

Everything lives in registered buffers (the fields, the write pointer and the
fill count), so a checkpoint holds the queue and resuming continues it
exactly. ``push`` gathers the rows of all ranks first (all ranks then hold the
same queue; ranks may push different numbers of rows, none included) and
writes them at the pointer with wrap-around, so the number of rows pushed
need not divide the queue size. A push reads nothing back from the device in
a single process.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch
from mmengine.dist import all_gather, get_world_size
from torch import nn

FieldSpec = Sequence  # (shape of one row, dtype)


def gather_rows(rows: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The rows of every rank, concatenated in rank order, whatever their
    number on each rank (0 included): the counts are gathered first, then
    the rows padded to the largest (mmengine's ``all_gather`` needs one
    shape on every rank; with gloo another shape aborts a rank, with NCCL it
    can hang or return garbage)."""
    first = next(iter(rows.values()))
    count = torch.tensor([len(first)], device=first.device)
    counts = [int(c) for c in all_gather(count)]  # distributed runs only
    largest = max(counts)
    gathered = {}
    for name, value in rows.items():
        padded = value.new_zeros((largest, *value.shape[1:]))
        padded[:len(value)] = value
        parts = all_gather(padded.contiguous())
        gathered[name] = torch.cat([p[:c] for p, c in zip(parts, counts)])
    return gathered


class FeatureQueue(nn.Module):
    """A ring buffer of ``size`` rows with named fields.

    Args:
        size: Number of rows kept.
        fields: ``name -> (row shape, dtype)``, e.g.
            ``{'prototypes': ((32, ), torch.float32)}`` or
            ``{'feats': ((128, ), torch.float32),
            'labels': ((), torch.long)}``.
        init: ``normal`` fills float fields with L2-normalised random rows (as
            MoCo and MaskContrast start), ``zeros`` with zeros. Integer fields
            start at -1.
    """

    def __init__(self, size: int, fields: Mapping[str, FieldSpec],
                 init: str = 'normal') -> None:
        super().__init__()
        if size <= 0:
            raise ValueError(f'queue size must be positive, got {size}')
        if init not in ('normal', 'zeros'):
            raise ValueError(f'init must be normal or zeros, got {init}')
        self.size = size
        self.field_names = tuple(fields)
        for name, (shape, dtype) in fields.items():
            shape = tuple(shape)
            if dtype.is_floating_point:
                value = torch.zeros(size, *shape, dtype=dtype)
                if init == 'normal':
                    value = nn.functional.normalize(
                        torch.randn(size, *shape), dim=-1).to(dtype)
            else:
                value = torch.full((size, *shape), -1, dtype=dtype)
            self.register_buffer(name, value)
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))
        self.register_buffer('count', torch.zeros((), dtype=torch.long))

    @property
    def full(self) -> bool:
        return int(self.count) >= self.size

    def valid(self) -> torch.Tensor:
        """Boolean mask of the rows that hold pushed data."""
        return torch.arange(self.size, device=self.ptr.device) < self.count

    def get(self, name: str, only_valid: bool = False) -> torch.Tensor:
        """A field, detached (optionally only the rows pushed so far)."""
        value = getattr(self, name).detach()
        return value[self.valid()] if only_valid else value

    @torch.no_grad()
    def push(self, gather: bool = True, **rows: torch.Tensor) -> None:
        """Write ``rows`` (one tensor per field, same first dimension) at the
        pointer, oldest rows first overwritten; with ``gather`` the rows of
        all ranks are concatenated in rank order first."""
        if set(rows) != set(self.field_names):
            raise KeyError(f'push needs the fields {self.field_names}, got '
                           f'{tuple(rows)}')
        lengths = {len(v) for v in rows.values()}
        if len(lengths) != 1:
            raise ValueError(f'fields differ in length: {lengths}')
        if gather and get_world_size() > 1:
            rows = gather_rows(rows)
        n = len(next(iter(rows.values())))
        if n == 0:
            return
        if n > self.size:  # only the newest rows fit
            rows = {k: v[-self.size:] for k, v in rows.items()}
            n = self.size
        index = (self.ptr + torch.arange(n, device=self.ptr.device)) % \
            self.size
        for name, value in rows.items():
            buffer = getattr(self, name)
            buffer[index] = value.detach().to(buffer.dtype)
        self.ptr.copy_((self.ptr + n) % self.size)
        self.count.copy_(torch.clamp(self.count + n, max=self.size))

    def extra_repr(self) -> str:
        return f'size={self.size}, fields={self.field_names}'
