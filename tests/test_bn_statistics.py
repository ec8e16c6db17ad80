"""The data-statistics control: PreciseBN statistics against a hand
computation, and the tool on real mosaics."""
from __future__ import annotations

import os.path as osp
import sys

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import Runner, set_random_seed
from torch import nn

from mmssl_seg.checkpoint.loading import load_model, load_weights
from mmssl_seg.datasets.texture_mosaic import build_texture_mosaics
from mmssl_seg.evaluation.bn_statistics import (
    bn_statistics_checkpoint,
    recompute_bn_statistics,
)
from tests.conftest import REPO, run_tool

MOSAIC_R18 = osp.join(REPO,
                      'configs/demo/deeplabv3_r18-d8_1xb8-240_mosaic-64x64.py')


class _Passthrough(nn.Module):
    def forward(self, data: dict, training: bool = False) -> dict:
        return data


class _TwoLayers(nn.Module):
    """conv - BN - ReLU - conv - BN, with an mmengine model's interface."""

    def __init__(self) -> None:
        super().__init__()
        self.data_preprocessor = _Passthrough()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.bn1 = nn.BatchNorm2d(4, momentum=0.3)
        self.conv2 = nn.Conv2d(4, 5, 1)
        self.bn2 = nn.BatchNorm2d(5)

    def forward(self, inputs: torch.Tensor, mode: str = 'tensor'):
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(inputs)))))


def _batch_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = x.transpose(0, 1).reshape(x.shape[1], -1)
    n = flat.shape[1]
    mean = flat.sum(1) / n
    return mean, ((flat - mean[:, None])**2).sum(1) / (n - 1)


def test_statistics_are_the_mean_of_batch_statistics():
    torch.manual_seed(0)
    model = _TwoLayers().double().eval()
    model.bn2.train()  # a mixed state, to be given back as it was
    batches = [torch.randn(n, 3, 6, 7, dtype=torch.float64) * 3 + 1
               for n in (2, 3, 4)]
    weights = {k: v.clone() for k, v in model.state_dict().items()
               if 'running' not in k and 'num_batches' not in k}

    # by hand: each layer's batch mean and unbiased variance, the later
    # layer fed the earlier one normalised by its batch statistics
    sums = [[0, 0], [0, 0]]
    for x in batches:
        h1 = model.conv1(x)
        m1, v1 = _batch_stats(h1)
        n1 = h1[0].numel() // h1.shape[1] * h1.shape[0]
        biased = v1 * (n1 - 1) / n1
        y1 = (h1 - m1[None, :, None, None]) / torch.sqrt(
            biased[None, :, None, None] + model.bn1.eps)
        y1 = y1 * model.bn1.weight[None, :, None, None] + \
            model.bn1.bias[None, :, None, None]
        m2, v2 = _batch_stats(model.conv2(F.relu(y1)))
        for i, (m, v) in enumerate(((m1, v1), (m2, v2))):
            sums[i][0] = sums[i][0] + m / len(batches)
            sums[i][1] = sums[i][1] + v / len(batches)

    seen = recompute_bn_statistics(model,
                                   ({'inputs': x} for x in batches))
    assert seen == 3
    for bn, (mean, var) in zip((model.bn1, model.bn2), sums):
        torch.testing.assert_close(bn.running_mean, mean)
        torch.testing.assert_close(bn.running_var, var)
        assert bn.num_batches_tracked.item() == 3
    # weights, modes and momenta as they were
    for key, value in model.state_dict().items():
        if key in weights:
            assert torch.equal(value, weights[key]), key
    assert not model.training and not model.bn1.training
    assert model.bn2.training
    assert (model.bn1.momentum, model.bn2.momentum) == (0.3, 0.1)


def test_no_batch_or_no_batch_norm_is_an_error():
    with pytest.raises(ValueError, match='no batch'):
        recompute_bn_statistics(_TwoLayers(), [])
    plain = nn.Conv2d(3, 3, 1)
    with pytest.raises(ValueError, match='no batch-norm'):
        recompute_bn_statistics(plain, [])


def test_random_weights_get_the_mosaics_statistics(tmp_path, monkeypatch):
    root = str(tmp_path / 'mosaics')
    build_texture_mosaics(root, num_train=10, num_val=2, size=64, seed=1)
    monkeypatch.setenv('MOSAIC_ROOT', root)
    out = str(tmp_path / 'random_bn.pth')
    meta = bn_statistics_checkpoint(MOSAIC_R18, None, out, seed=3)
    assert meta['bn_statistics'] == 'PreciseBN over 2 train batches of 8'
    saved = torch.load(out, weights_only=True)['state_dict']

    # the same random weights as the seed's init, only the statistics new
    cfg = Config.fromfile(MOSAIC_R18)
    set_random_seed(3)
    init = load_model(cfg, None)
    own = {k: v for k, v in init.state_dict().items()
           if k.startswith('backbone.')}
    assert saved.keys() == own.keys()
    for key, value in own.items():
        if 'running' in key or 'num_batches' in key:
            continue
        assert torch.equal(saved[key], value), key
    # the stem's first BN by hand: the mean over the two batches (the same
    # seeded loader) of each batch's channel means of the first conv
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=3)
    means = []
    with torch.no_grad():
        for _, data in zip(range(2), loader):
            inputs = init.data_preprocessor(data, True)['inputs']
            means.append(init.backbone.stem[0](inputs).mean((0, 2, 3)))
    torch.testing.assert_close(saved['backbone.stem.1.running_mean'],
                               torch.stack(means).mean(0))
    assert saved['backbone.stem.1.running_mean'].abs().max() > 0.1
    # and it loads as the frozen protocols load a backbone
    load_weights(init, out)


def test_cli_names_a_missing_checkpoint(tmp_path):
    result = run_tool(sys.executable, 'tools/eval/bn_statistics.py',
                      MOSAIC_R18, str(tmp_path / 'nowhere.pth'),
                      str(tmp_path / 'out.pth'),
                      env={'MOSAIC_ROOT': str(tmp_path)})
    assert result.returncode == 1
    assert 'checkpoint not found' in result.stdout
    assert not osp.exists(tmp_path / 'out.pth')
