"""The worker pool of the offline tools: one copy of the function per
worker, so lazily loaded models are loaded once per worker."""
import json
import os
import sys

from mmssl_seg.utils.parallel import parallel_map
from tests.conftest import run_tool


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


WORKERS_AFTER_OPENCV = """
import json, cv2, numpy as np
from mmssl_seg.utils.parallel import parallel_map
image = np.random.rand(1500, 1500).astype(np.float32)
for _ in range(3):  # OpenCV's thread pool is running in this process
    cv2.GaussianBlur(image, (0, 0), 5)
assert cv2.getNumThreads() > 1


def threads(_):
    import torch
    from threadpoolctl import threadpool_info
    cv2.GaussianBlur(image, (0, 0), 5)
    return (torch.get_num_threads(), cv2.getNumThreads(),
            sorted({i['num_threads'] for i in threadpool_info()}))


print(json.dumps(list(parallel_map(threads, range(4), 2, 'threads'))))
print(cv2.getNumThreads())
"""


def test_workers_start_after_opencv_ran_and_use_one_thread_each():
    """Forked after OpenCV's pool ran in the parent (setting the pool in the
    child waited forever on threads it does not have), each worker runs
    torch, OpenCV and BLAS on one thread; the parent keeps its pool."""
    result = run_tool(sys.executable, '-c', WORKERS_AFTER_OPENCV,
                      timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    lines = result.stdout.strip().splitlines()
    for torch_threads, cv_threads, blas in json.loads(lines[-2]):
        assert torch_threads == 1 and cv_threads == 1 and blas == [1]
    assert int(lines[-1]) > 1
