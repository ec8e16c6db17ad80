"""Each stack shim: it fixes its problem, and does nothing where not needed.

Shim behaviour that depends on import order runs in a fresh interpreter that
loads ``mmssl_seg/compat.py`` by path, so ``mmssl_seg/__init__`` has not
applied anything yet.
"""
import os.path as osp
import sys

import pytest
import torch

from mmssl_seg import compat
from tests.conftest import MINI_DEEPLAB, REPO, run_tool

LOAD_COMPAT = (
    'import importlib.util, sys\n'
    'spec = importlib.util.spec_from_file_location(\n'
    f'    "c", r"{REPO}/mmssl_seg/compat.py")\n'
    'compat = importlib.util.module_from_spec(spec)\n'
    'spec.loader.exec_module(compat)\n')


def run_python(code: str):
    result = run_tool(sys.executable, '-c', code)
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


def test_import_in_plain_python_session():
    out = run_python('import mmssl_seg, torchvision, mmseg.utils, mmpretrain\n'
                     'import mmssl_seg.datasets\n'
                     'print("ok", mmssl_seg.__version__)')
    assert 'ok 0.1.0' in out


def test_mmcv_ext_stub_stands_in_and_raises_only_when_called():
    import mmcv.ops  # noqa: F401  (would fail without the stand-in)
    from mmengine.utils.dl_utils import mmcv_full_available
    ext = sys.modules['mmcv._ext']
    assert isinstance(ext, compat._MissingCompiledOps)
    assert not mmcv_full_available()
    op = ext.roi_align_forward  # looking up is fine
    with pytest.raises(RuntimeError, match='mmcv-lite'):
        op()


def test_mmcv_ext_stub_does_nothing_with_real_compiled_ops():
    out = run_python(
        'import sys, types\n'
        'real = types.ModuleType("mmcv._ext")\n'
        'sys.modules["mmcv._ext"] = real\n'
        + LOAD_COMPAT +
        'print(compat.install_mmcv_ext_stub(),\n'
        '      sys.modules["mmcv._ext"] is real)')
    assert out.strip().endswith('False True')


def test_torchvision_imports_and_its_schemas_are_defined_once():
    import torchvision  # noqa: F401
    assert compat._APPLIED['torchvision_schemas'] is True
    assert torch.ops.torchvision.nms is not None
    assert compat.install_torchvision_schemas() is False  # idempotent


def test_torchvision_shim_does_nothing_when_its_library_loads():
    out = run_python(
        LOAD_COMPAT +
        'import torch\n'
        'torch.ops.load_library = lambda path: None  # a matching build\n'
        'print(compat.torchvision_ops_needed(), compat._torchvision_lib)')
    assert out.strip().endswith('False None')


def test_torchvision_shim_is_needed_when_its_library_fails():
    out = run_python(
        LOAD_COMPAT +
        'import torch\n'
        'def fail(path): raise OSError("undefined symbol")\n'
        'torch.ops.load_library = fail\n'
        'print(compat.torchvision_ops_needed())')
    assert out.strip().endswith('True')


def test_package_lookup_without_pkg_resources():
    assert compat.get_installed_path('mmseg') == osp.dirname(
        __import__('mmseg').__file__)
    assert compat.get_installed_path('mmsegmentation') == osp.dirname(
        __import__('mmseg').__file__)
    assert compat.is_installed('mmsegmentation')
    assert compat.is_installed('mmseg')
    assert not compat.is_installed('surely_not_a_package_xyz')


def test_mmseg_base_configs_resolve_without_pkg_resources():
    config = osp.join(
        REPO, 'configs/finetune/'
            'deeplabv3_r18-d8_1xb8-400_voc12mini-128x128.py')
    out = run_python(
        'import sys; sys.modules["pkg_resources"] = None  # setuptools >= 81\n'
        + LOAD_COMPAT +
        'applied = compat.install_pkg_resources_free_lookup()\n'
        'from mmengine.config import Config\n'
        f'cfg = Config.fromfile(r"{config}")\n'
        'print(applied, cfg.model.decode_head.type)')
    assert out.strip().endswith('True ASPPHead')


def test_pkg_resources_shim_does_nothing_when_it_exists():
    import mmengine.utils.package_utils as package_utils
    if compat.pkg_resources_needed():
        pytest.skip('this environment has no pkg_resources')
    assert package_utils.is_installed is not compat.is_installed


def _full_checkpoint(path):
    from mmengine.logging import HistoryBuffer
    torch.save({'state_dict': {'w': torch.ones(2)},
                'message_hub': {'loss': HistoryBuffer()}}, path)


def test_full_checkpoint_outside_work_dir_is_refused(tmp_path):
    path = str(tmp_path / 'full.pth')
    _full_checkpoint(path)
    with pytest.raises(compat.UntrustedCheckpointError,
                       match='extract_pretrained'):
        compat.load_local_checkpoint(path)


def test_full_checkpoint_inside_trusted_dir_loads(tmp_path):
    path = str(tmp_path / 'full.pth')
    _full_checkpoint(path)
    with compat.trusted_checkpoint_dir(str(tmp_path)):
        assert compat.load_local_checkpoint(path)['state_dict']['w'].sum() == 2
    assert not compat.is_trusted(path)  # the trust ends with the block
    # a sibling folder whose name starts the same is not inside
    assert not compat.is_trusted(str(tmp_path) + '_other/full.pth')


def test_tensors_only_checkpoint_loads_anywhere(tmp_path):
    path = str(tmp_path / 'weights.pth')
    torch.save({'state_dict': {'w': torch.ones(3)}, 'meta': {'a': 'b'}}, path)
    assert compat.load_local_checkpoint(path)['state_dict']['w'].sum() == 3


def test_runner_trusts_only_its_own_work_dir(mini_run, tmp_path):
    from mmssl_seg.engine.runner import build_runner, load_config
    own = build_runner(load_config(MINI_DEEPLAB, mini_run['work_dir']))
    own.load_checkpoint(mini_run['checkpoint'])  # a full checkpoint: fine

    other = build_runner(load_config(MINI_DEEPLAB, str(tmp_path / 'other')))
    with pytest.raises(compat.UntrustedCheckpointError,
                       match='extract_pretrained'):
        other.load_checkpoint(mini_run['checkpoint'])


def test_cpu_distributed_shim_only_without_cuda():
    applied = compat._APPLIED['cpu_distributed']
    assert applied is (not torch.cuda.is_available())
    if applied:
        import mmengine.dist.utils as dist_utils
        assert dist_utils._init_dist_pytorch._mmssl_cpu


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_adjust_hue_rotates_hue_under_numpy2(backend):
    import cv2
    import mmcv
    import numpy as np
    if compat.adjust_hue_needed():
        assert mmcv.adjust_hue is compat.adjust_hue
    image = np.zeros((1, 3, 3), np.uint8)
    image[0] = [[0, 0, 255], [0, 255, 0], [255, 0, 0]]  # BGR red, green, blue
    for factor in (-0.3, -0.05, 0.2):
        out = mmcv.adjust_hue(image, factor, backend=backend)
        hue_in = cv2.cvtColor(image, cv2.COLOR_BGR2HSV_FULL)[..., 0]
        hue_out = cv2.cvtColor(out, cv2.COLOR_BGR2HSV_FULL)[..., 0]
        shift = (hue_out.astype(int) - hue_in.astype(int)) % 256
        expected = int(factor * 255) % 256
        assert np.all(np.abs(shift - expected) <= 2), (factor, shift)
