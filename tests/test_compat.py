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


def test_importing_the_plugin_leaves_the_host_as_it_was():
    """``import mmssl_seg`` (what every config of ours does through
    custom_imports) registers modules and applies only the shims without
    which the stack cannot import: mmengine's checkpoint loading, hooks and
    DDP, and mmcv's functions stay the stock objects."""
    out = run_python(
        'import mmcv, mmengine.dist.utils as du, mmseg.registry\n'
        'from mmengine.hooks import CheckpointHook\n'
        'from mmengine.model import MMDistributedDataParallel as DDP\n'
        'from mmengine.runner import Runner\n'
        'from mmengine.runner.checkpoint import CheckpointLoader\n'
        'def host():\n'
        '    return (Runner.load_checkpoint, DDP.__init__,\n'
        '            du._init_dist_pytorch, dict(CheckpointLoader._schemes),\n'
        '            mmcv.adjust_hue)\n'
        'before = host()\n'
        'import mmssl_seg\n'
        'after = host()\n'
        'print([a is b or a == b for a, b in zip(before, after)],\n'
        '      mmseg.registry.HOOKS.get("CheckpointHook") is CheckpointHook,\n'
        '      mmseg.registry.HOOKS.get("AtomicCheckpointHook").__name__,\n'
        '      sorted(k for k, v in mmssl_seg.compat._APPLIED.items()))')
    assert out.strip().splitlines()[-1] == (
        "[True, True, True, True, True] True AtomicCheckpointHook "
        "['editable_lookup', 'mmcv_ext_stub', 'pkg_resources_free_lookup', "
        "'torchvision_schemas']")


def test_our_tools_apply_the_runtime_patches():
    out = run_python(
        'import mmcv, mmssl_seg\n'
        'from mmssl_seg.engine.runner import load_config\n'
        f'cfg = load_config(r"{MINI_DEEPLAB}")\n'
        'print(cfg.default_hooks.checkpoint.type,\n'
        '      sorted(mmssl_seg.compat._APPLIED))')
    assert out.strip().splitlines()[-1] == (
        "AtomicCheckpointHook ['adjust_hue', 'cpu_distributed', "
        "'editable_lookup', 'mmcv_ext_stub', 'pkg_resources_free_lookup', "
        "'torchvision_schemas']")


def test_a_full_checkpoint_is_unpickled_only_when_resumed(mini_run,
                                                          tmp_path):
    """Loading a training checkpoint (``load_from``, or a file in the run's
    own work_dir) reads with weights_only=True and is refused with what to
    do instead; only ``resume`` unpickles it fully."""
    from mmssl_seg.checkpoint.io import UntrustedCheckpointError
    from mmssl_seg.engine.runner import build_runner, load_config

    def runner(work_dir: str):
        return build_runner(load_config(MINI_DEEPLAB, work_dir))

    own = runner(mini_run['work_dir'])
    with pytest.raises(UntrustedCheckpointError,
                       match='extract_pretrained.*\\(torch: '):
        own.load_checkpoint(mini_run['checkpoint'])
    with pytest.raises(UntrustedCheckpointError, match='--resume'):
        own.load_checkpoint(mini_run['checkpoint'])
    own._resuming = osp.realpath(mini_run['checkpoint'])
    assert own.load_checkpoint(mini_run['checkpoint'])['meta']['iter'] == 2
    tensors = str(tmp_path / 'weights.pth')
    model = own.model
    torch.save({'state_dict': model.state_dict()}, tensors)
    other = runner(str(tmp_path / 'other'))
    other.load_checkpoint(tensors)  # tensors only: fine anywhere


def test_cpu_distributed_shim_only_without_cuda():
    applied = compat.install_runtime()['cpu_distributed']
    assert applied is (not torch.cuda.is_available())
    if applied:
        import mmengine.dist.utils as dist_utils
        assert dist_utils._init_dist_pytorch._mmssl_cpu


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_adjust_hue_rotates_hue_under_numpy2(backend):
    import cv2
    import mmcv
    import numpy as np
    compat.install_runtime()
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
