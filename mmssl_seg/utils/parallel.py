"""A worker pool with a progress bar, for per-image work (prior tools, the
BSDS benchmark)."""
from __future__ import annotations

import contextlib
import multiprocessing
from typing import Callable, Iterable, Iterator

from rich.progress import track

#: The worker's function: handed over once per worker (inherited through
#: fork), so that what it loads lazily (a forest, a network) is loaded once
#: per worker, not once per item as a function pickled with every task is.
_worker_fn: Callable | None = None


def _init_worker(fn: Callable) -> None:
    global _worker_fn
    import torch
    torch.set_num_threads(1)  # one core per worker
    _worker_fn = fn


def _call(item):
    return _worker_fn(item)


@contextlib.contextmanager
def _one_thread_pools() -> Iterator[None]:
    """BLAS and OpenCV at one thread while the workers are forked, so that
    they start with one: setting OpenCV's pool inside a forked child waits
    forever on the parent's pool threads, which the child does not have."""
    import cv2
    from threadpoolctl import threadpool_limits
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        cv2.setNumThreads(threads)


def parallel_map(fn: Callable, items: Iterable, workers: int,
                 description: str, total: int | None = None) -> Iterator:
    """``fn`` over ``items`` with ``workers`` processes (in this process when
    ``workers <= 1``), results in completion order, with a progress bar.
    Each worker keeps one copy of ``fn`` for all its items and runs torch,
    BLAS and OpenCV on one thread."""
    items = list(items)
    total = len(items) if total is None else total
    if workers <= 1:
        yield from track((fn(i) for i in items), total=total,
                         description=description)
        return
    context = multiprocessing.get_context('fork')
    with _one_thread_pools(), context.Pool(
            workers, initializer=_init_worker, initargs=(fn, )) as pool:
        yield from track(pool.imap_unordered(_call, items), total=total,
                         description=description)
