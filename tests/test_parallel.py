"""The worker pool of the offline tools: one copy of the function per
worker, so lazily loaded models are loaded once per worker."""
import os

from mmssl_seg.utils.parallel import parallel_map


class CountingLoader:
    """Stands for a detector that loads its model on first use."""

    def __init__(self) -> None:
        self.loads = self.calls = 0
        self.model = None

    def __call__(self, item: int) -> tuple[int, int, int, int]:
        if self.model is None:
            self.model = object()
            self.loads += 1
        self.calls += 1
        return item, os.getpid(), self.loads, self.calls


def test_each_worker_loads_once_for_all_its_items():
    results = list(parallel_map(CountingLoader(), range(12), 2, 'items'))
    assert sorted(r[0] for r in results) == list(range(12))
    assert {r[2] for r in results} == {1}  # never loaded twice
    pids = {r[1] for r in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    # each worker's copy saw all its items (a copy per item sees one)
    for pid in pids:
        calls = sorted(r[3] for r in results if r[1] == pid)
        assert calls == list(range(1, len(calls) + 1))
    assert max(r[3] for r in results) > 1


def test_workers_run_on_one_thread_each():
    def threads(_):
        import cv2
        import torch
        from threadpoolctl import threadpool_info
        blas = {i['num_threads'] for i in threadpool_info()}
        return torch.get_num_threads(), cv2.getNumThreads(), blas

    for torch_threads, cv_threads, blas in parallel_map(threads, range(4),
                                                        2, 'threads'):
        assert torch_threads == 1 and cv_threads == 1
        assert blas <= {1}
