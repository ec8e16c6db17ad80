"""What makes the training steps GPU-ready, checked on the CPU: no op of
ours in any method's step would make a CUDA device wait for the host, no
loss breaks a ``torch.compile`` graph, and every method trains under the
``--amp`` optimizer wrapper (bfloat16 autocast on the CPU)."""
from __future__ import annotations

import importlib
import os
import os.path as osp
import sys

import pytest
import torch

from tests.conftest import REPO, needs_voc12_mini

METHODS = ('mask_contrast', 'hier_grouping', 'aux_contrast', 'mix_match')


@pytest.fixture(autouse=True)
def _environment_restored():
    """The benchmark's batches point configs at their priors through
    environment variables; later tests must not see them."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def _overhead():
    """``benchmarks/method_overhead.py``: its real batches (voc12_mini
    through each config's pipeline, priors made from the ground truth) and
    its sync count."""
    needs_voc12_mini()
    sys.path.insert(0, osp.join(REPO, 'benchmarks'))
    try:
        return importlib.import_module('method_overhead')
    finally:
        sys.path.remove(osp.join(REPO, 'benchmarks'))


def test_the_guard_sees_host_reads_in_our_code_only():
    """Positive control: an evaluation helper of ours reads a value back
    (``float(tensor)``) and indexes with a mask; a test's own ``item()`` is
    not ours."""
    from mmssl_seg.utils.sync_guard import SyncGuard
    from mmssl_seg.visualization.patch_tsne import knn_accuracy
    features = torch.nn.functional.normalize(torch.randn(12, 4), dim=1)
    with SyncGuard() as guard:
        knn_accuracy(features, torch.arange(12) % 3)
        torch.ones(2).sum().item()
        torch.ones(3)[torch.tensor([True, False, True])]
    ops = {op for op, _ in guard.syncs}
    assert '_local_scalar_dense' in ops
    assert all(where.startswith('mmssl_seg/visualization/patch_tsne.py')
               for _, where in guard.syncs), guard.report()
    assert guard.total_ops > 0


@pytest.mark.parametrize('method', METHODS)
def test_a_mini_step_never_waits_for_the_host(method, tmp_path):
    """One training step of the mini config (loss, backward, momentum
    update) under the sync guard, and the loss under
    ``torch._dynamo.explain``."""
    result, guard = _overhead().count_syncs(method, str(tmp_path), mini=True)
    assert result['host_syncs'] == 0, guard.report()
    assert result['graph_breaks'] == 0
    assert result['ops'] > 0


@pytest.mark.parametrize('method', METHODS)
def test_every_method_trains_under_amp(method, tmp_path, monkeypatch):
    """Three iterations through ``--amp``'s ``AmpOptimWrapper`` (bfloat16
    autocast on the CPU; mmengine only refuses to build it without CUDA):
    the network runs in bfloat16, the losses are float32 and finite, and
    every weight moves."""
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp_wrapper
    from mmengine.optim import build_optim_wrapper

    from mmssl_seg.engine.runner import enable_amp
    from mmssl_seg.models.builder import build_model
    overhead = _overhead()
    config, batch = overhead.MINI[method]
    cfg, data = overhead.real_batch(method, batch, str(tmp_path), config)
    cfg.model.pop('init_cfg', None)
    enable_amp(cfg)  # what tools/train.py --amp does
    cfg.optim_wrapper.dtype = 'bfloat16'
    monkeypatch.setattr(amp_wrapper, 'is_cuda_available', lambda: True)
    torch.manual_seed(0)
    model = build_model(cfg)
    model.init_weights()
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert type(optim_wrapper).__name__ == 'AmpOptimWrapper'
    dtypes = []
    model.backbone.register_forward_hook(lambda m, i, out: dtypes.append(
        (out[-1] if isinstance(out, (list, tuple)) else out).dtype))
    before = [p.detach().clone() for p in model.parameters()]
    momentum = getattr(model, 'momentum', None)
    for _ in range(3):
        log = model.train_step(data, optim_wrapper)
        if momentum is not None:  # MomentumUpdateHook
            model.update_momentum_encoder(1.0 - momentum)
        for name, value in log.items():
            if name.startswith('loss'):
                assert value.dtype == torch.float32, name
                assert torch.isfinite(value), name
    assert set(dtypes) == {torch.bfloat16}
    moved = [not torch.equal(b, p) for b, p in zip(before,
                                                   model.parameters())]
    assert all(moved), f'{moved.count(False)} weights did not move'
