"""Find, on a CPU, the operations of our code that would make a CUDA device
wait for the host.

On a GPU a training step runs asynchronously: the host queues kernels and
goes on. An operation whose result the host must read (a tensor's value in a
Python ``int``/``bool``, an output whose size depends on the data, a copy to
host memory) stops the queue until the device has caught up. On the CPU
nothing waits, so such operations cost nothing here and are easy to miss.
:class:`SyncGuard` records them while a step runs:

* dispatched ops that read a value or size out of the data:
  ``_local_scalar_dense`` (``item()``, ``int()``, ``float()``, ``bool()``),
  ``nonzero``, ``masked_select``, ``unique*``, ``bincount``, ``histc``,
  ``repeat_interleave`` without ``output_size``, ``equal``, and indexing or
  index assignment with a boolean mask (which calls ``nonzero``);
* copies to the host: ``Tensor.tolist``, ``Tensor.numpy``, ``Tensor.cpu``
  (no-ops on a CPU tensor, so they are caught where they are called).

An operation counts as ours when the first frame above it outside torch is
in the ``mmssl_seg`` package (not this module): the network modules of
MMSeg / MMPretrain that our code calls are theirs. The guard also counts
every op of ours (``ops``), the size of our part of a step.
"""
from __future__ import annotations

import contextlib
import os.path as osp
import sys
from collections import Counter
from typing import Iterator

import torch
from torch.utils._python_dispatch import TorchDispatchMode

_PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))
_TORCH = osp.dirname(osp.abspath(torch.__file__))
_HERE = osp.abspath(__file__)

#: Dispatched ops that read data back to the host, whatever their arguments.
SYNC_OPS = frozenset({
    '_local_scalar_dense', 'nonzero', 'masked_select', '_unique',
    '_unique2', 'unique_dim', 'unique_consecutive', 'unique_dim_consecutive',
    'bincount', 'histc', 'equal', 'is_nonzero', 'allclose'})
#: Host copies that do not dispatch on a CPU tensor.
HOST_COPIES = ('tolist', 'numpy', 'cpu')


def _name(func) -> str:
    return func._schema.name.split('::')[-1]


def _is_sync(func, args, kwargs) -> bool:
    name = _name(func)
    if name in SYNC_OPS:
        return True
    if name == 'repeat_interleave' and isinstance(args[0], torch.Tensor) and \
            len(args) < 3 and kwargs.get('output_size') is None:
        return not (len(args) == 2 and isinstance(args[1], int))
    if name in ('index', 'index_put', 'index_put_', '_index_put_impl_'):
        indices = args[1] if len(args) > 1 else kwargs.get('indices', ())
        return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool
                   for i in indices or ())
    return False


def our_frame() -> str | None:
    """``file:line`` of the first frame above the caller outside torch (and
    this module) when it is in our package, else None."""
    frame = sys._getframe(1)
    while frame is not None:
        path = frame.f_code.co_filename
        if path != _HERE and not path.startswith(_TORCH) and \
                not path.startswith('<'):
            if path.startswith(_PACKAGE):
                return f'{osp.relpath(path, osp.dirname(_PACKAGE))}:' \
                    f'{frame.f_lineno}'
            return None
        frame = frame.f_back
    return None


class SyncGuard(TorchDispatchMode):
    """Records the host synchronisations and the ops of our code while it is
    active (``with SyncGuard() as guard: step()``).

    Attributes:
        syncs: ``(op, file:line)`` of every synchronising op of ours.
        ops: Count of every op of ours, by name.
    """

    def __init__(self) -> None:
        super().__init__()
        self.syncs: list[tuple[str, str]] = []
        self.ops: Counter = Counter()
        self._patched = contextlib.ExitStack()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        where = our_frame()
        if where is not None:
            self.ops[_name(func)] += 1
            if _is_sync(func, args, kwargs):
                self.syncs.append((_name(func), where))
        return func(*args, **kwargs)

    def __enter__(self) -> SyncGuard:
        for method in HOST_COPIES:
            self._patched.enter_context(self._watch(method))
        return super().__enter__()

    def __exit__(self, *exc) -> None:
        try:
            return super().__exit__(*exc)
        finally:
            self._patched.close()

    @contextlib.contextmanager
    def _watch(self, method: str) -> Iterator[None]:
        original = getattr(torch.Tensor, method)
        guard = self

        def watched(tensor, *args, **kwargs):
            where = our_frame()
            if where is not None:
                guard.syncs.append((method, where))
            return original(tensor, *args, **kwargs)

        setattr(torch.Tensor, method, watched)
        try:
            yield
        finally:
            setattr(torch.Tensor, method, original)

    @property
    def total_ops(self) -> int:
        return sum(self.ops.values())

    def report(self) -> str:
        """One line per distinct synchronisation: op, place, count."""
        counts = Counter(self.syncs)
        return '\n'.join(f'{op} at {where} (x{n})'
                         for (op, where), n in sorted(counts.items()))
