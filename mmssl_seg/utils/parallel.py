"""A worker pool with a progress bar, for per-image work (prior tools, the
BSDS benchmark)."""
from __future__ import annotations

import multiprocessing
from typing import Callable, Iterable, Iterator

from rich.progress import track


def _init_worker() -> None:
    import torch
    torch.set_num_threads(1)  # one core per worker


def parallel_map(fn: Callable, items: Iterable, workers: int,
                 description: str, total: int | None = None) -> Iterator:
    """``fn`` over ``items`` with ``workers`` processes (in this process when
    ``workers <= 1``), results in completion order, with a progress bar."""
    items = list(items)
    total = len(items) if total is None else total
    if workers <= 1:
        yield from track((fn(i) for i in items), total=total,
                         description=description)
        return
    context = multiprocessing.get_context('fork')
    with context.Pool(workers, initializer=_init_worker) as pool:
        yield from track(pool.imap_unordered(fn, items), total=total,
                         description=description)
