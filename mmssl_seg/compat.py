"""Workarounds for the pinned OpenMMLab stack, in one place.

Every shim checks whether it is needed and does nothing otherwise. Two
kinds:

* :data:`IMPORT_SHIMS`, without which the stack cannot be imported or a
  config with ``mmseg::`` bases cannot be read. ``import mmssl_seg`` applies
  them (:func:`install`); they must run before ``torchvision``,
  ``mmseg.utils`` or ``mmpretrain`` are first imported and before
  ``Config.fromfile`` resolves ``mmseg::`` / ``mmpretrain::`` bases.
* :data:`RUNTIME_PATCHES`, which change how mmengine or mmcv behave. Never
  applied by importing the package: our ``tools/*.py`` and
  ``python -m mmssl_seg.launch`` apply them (:func:`install_runtime`), so a
  project that only inherits one of our configs keeps its stack as it is.

The problems (measured with the versions of requirements/pinned.txt):

1. ``mmcv-lite`` has no compiled ``mmcv._ext``; ``mmseg.utils`` imports
   ``mmcv.ops`` and dies. Stand-in: a module whose attributes raise only when
   called. None of our models needs a compiled op. (import)
2. The registry's ``torchvision`` 0.28 is a CUDA build whose ``_C`` library
   does not load next to the CPU ``torch``; its fake-kernel registrations
   then fail with ``operator torchvision::nms does not exist``. Defining the
   two schemas first lets it import (its compiled ops stay unavailable).
   (import)
3. setuptools >= 81 has no ``pkg_resources``, which mmengine uses to resolve
   ``mmseg::`` config bases. Replacement built on ``importlib``. (Where it
   exists, its deprecation warning on every lookup is silenced.) In an
   editable install (``pip install -e .``, what ``make`` builds) mmengine
   looks for ``mmssl_seg/.mim`` under site-packages, where it is not; the
   lookup of our own package is pointed at the package folder (every other
   package resolves as before). (import)
4. mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and wraps
   models in DDP with ``device_ids=[LOCAL_RANK]``; both fail without CUDA.
   Without CUDA we skip the former, use ``gloo`` where ``nccl`` was asked for,
   and leave ``device_ids`` unset (CPU DDP), so ``tools/dist_train.sh`` works
   with several CPU processes (and our 2-process tests run). (runtime)
5. NumPy 2 refuses ``np.uint8(-19)``; mmcv 2.1's ``adjust_hue`` relies on
   that wrapping, so MMPretrain's ``ColorJitter`` crashes on every negative
   hue shift. Replacement with the same hue rotation (shift modulo 256).
   (runtime)

Checkpoint loading is not patched: torch >= 2.6 loads with
``weights_only=True``, and our runner
(:class:`~mmssl_seg.engine.runner.QuietStartRunner`) fully unpickles only the
checkpoint that ``--resume`` continues from.
"""
from __future__ import annotations

import glob
import importlib.machinery
import importlib.metadata
import importlib.util
import os.path as osp
import sys
import types
import warnings
from typing import Callable

_APPLIED: dict[str, bool] = {}


# --------------------------------------------------------------------------- #
# 1. mmcv-lite: stand-in for the compiled ``mmcv._ext``
# --------------------------------------------------------------------------- #
class _MissingCompiledOps(types.ModuleType):
    """Stand-in for ``mmcv._ext``: any op can be looked up, none can be run."""

    def __getattr__(self, name: str) -> Callable:
        if name.startswith('__'):
            raise AttributeError(name)

        def _unavailable(*args, **kwargs):
            raise RuntimeError(
                f'mmcv compiled op `{name}` is not available: mmcv-lite is '
                'installed. Install full mmcv (`pip install '
                '--no-build-isolation'
                ' mmcv==2.1.0`, about 10 minutes to build) to use it.')

        return _unavailable


def mmcv_ext_needed() -> bool:
    """True when ``mmcv`` is installed without its compiled ops."""
    if 'mmcv._ext' in sys.modules:
        return False
    if importlib.util.find_spec('mmcv') is None:
        return False
    return importlib.util.find_spec('mmcv._ext') is None


def install_mmcv_ext_stub() -> bool:
    if not mmcv_ext_needed():
        return False
    stub = _MissingCompiledOps('mmcv._ext')
    # loader=None: mmengine's ``mmcv_full_available()`` then still says False.
    stub.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', loader=None)
    sys.modules['mmcv._ext'] = stub
    return True


# --------------------------------------------------------------------------- #
# 2. torchvision built for another torch: define the op schemas it expects
# --------------------------------------------------------------------------- #
_TORCHVISION_SCHEMAS = {
    'nms': 'nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor',
    'qnms': 'qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor',
}
_torchvision_lib = None  # keeps the schema definitions alive


def torchvision_ops_needed() -> bool:
    """True when torchvision is installed but its ``_C`` library cannot
    load."""
    if 'torchvision' in sys.modules:
        return False  # already imported (successfully): too late or not needed
    spec = importlib.util.find_spec('torchvision')
    if spec is None or spec.origin is None:
        return False
    import torch
    libs = [
        path for suffix in importlib.machinery.EXTENSION_SUFFIXES
        for path in glob.glob(osp.join(osp.dirname(spec.origin),
                                       '_C' + suffix))
    ]
    if not libs:
        return True
    try:
        torch.ops.load_library(libs[0])
    except (OSError, RuntimeError):
        return True
    return False


def install_torchvision_schemas() -> bool:
    global _torchvision_lib
    if _torchvision_lib is not None or not torchvision_ops_needed():
        return False
    import torch
    lib = torch.library.Library('torchvision', 'DEF')
    for schema in _TORCHVISION_SCHEMAS.values():
        lib.define(schema)
    _torchvision_lib = lib
    return True


# --------------------------------------------------------------------------- #
# 3. pkg_resources removed from setuptools >= 81
# --------------------------------------------------------------------------- #
def pkg_resources_needed() -> bool:
    return importlib.util.find_spec('pkg_resources') is None


def _module_path(package: str) -> str | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return osp.dirname(spec.origin)


def is_installed(package: str) -> bool:
    """``mmengine.utils.is_installed`` without ``pkg_resources``."""
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        return _module_path(package) is not None


def get_installed_path(package: str) -> str:
    """``mmengine.utils.get_installed_path`` without ``pkg_resources``.

    ``package`` may be a module name (``mmseg``) or a distribution name
    (``mmsegmentation``); both resolve to the package folder.
    """
    path = _module_path(package)
    if path is not None:
        return path
    dist = importlib.metadata.distribution(package)  # raises if unknown
    top_level = (dist.read_text('top_level.txt') or '').split()
    for module in top_level or [package.replace('-', '_')]:
        path = _module_path(module)
        if path is not None:
            return path
    raise ModuleNotFoundError(f'cannot locate the files of package {package}')


def install_pkg_resources_free_lookup() -> bool:
    if not pkg_resources_needed():
        # We pin setuptools < 81 on purpose; mmengine re-imports
        # pkg_resources on every lookup and each import warns.
        warnings.filterwarnings(
            'ignore', message='pkg_resources is deprecated as an API',
            category=UserWarning)
        return False
    import mmengine.config.config as config_module
    import mmengine.utils as utils_module
    import mmengine.utils.package_utils as package_utils
    for module in (package_utils, utils_module, config_module):
        module.is_installed = is_installed
        module.get_installed_path = get_installed_path
    return True


def editable_lookup_needed() -> bool:
    """An editable install (``pip install -e .``): the distribution's
    location is site-packages, where mmengine's lookup looks for
    ``mmssl_seg/.mim`` and finds nothing; the package lives in the
    checkout."""
    try:
        dist = importlib.metadata.distribution('mmssl_seg')
    except importlib.metadata.PackageNotFoundError:
        return False  # not installed: mmengine falls back to find_spec
    stock = osp.join(str(dist.locate_file('')), 'mmssl_seg')
    return osp.realpath(stock) != osp.realpath(_module_path('mmssl_seg')
                                               or stock)


def install_editable_lookup() -> bool:
    """``mmssl_seg::`` bases in an editable install: mmengine's
    ``get_installed_path('mmssl_seg')`` gives the package's folder; every
    other package resolves as before."""
    if not editable_lookup_needed():
        return False
    import mmengine.config.config as config_module
    import mmengine.utils as utils_module
    import mmengine.utils.package_utils as package_utils
    stock = config_module.get_installed_path

    def get_installed_path_(package: str) -> str:
        if package == 'mmssl_seg':
            return _module_path('mmssl_seg')
        return stock(package)

    for module in (package_utils, utils_module, config_module):
        module.get_installed_path = get_installed_path_
    return True


# --------------------------------------------------------------------------- #
# 4. Distributed runs on CPU-only torch
# --------------------------------------------------------------------------- #
def cpu_distributed_needed() -> bool:
    import torch
    return not torch.cuda.is_available()


def install_cpu_distributed() -> bool:
    if not cpu_distributed_needed():
        return False
    import mmengine.dist.utils as dist_utils
    from mmengine.model import MMDistributedDataParallel
    if getattr(dist_utils._init_dist_pytorch, '_mmssl_cpu', False):
        return True

    def _init_dist_pytorch(backend: str = 'gloo', init_backend: str = 'torch',
                           **kwargs) -> None:
        import torch.distributed as torch_dist
        if init_backend != 'torch':
            raise ValueError(f'init_backend={init_backend} needs CUDA')
        torch_dist.init_process_group(
            backend='gloo' if backend == 'nccl' else backend, **kwargs)

    _init_dist_pytorch._mmssl_cpu = True
    dist_utils._init_dist_pytorch = _init_dist_pytorch

    original_init = MMDistributedDataParallel.__init__

    def __init__(self, module, *args, **kwargs):
        kwargs['device_ids'] = None  # CPU modules take no device ids
        original_init(self, module, *args, **kwargs)

    MMDistributedDataParallel.__init__ = __init__
    return True


# --------------------------------------------------------------------------- #
# 5. mmcv.adjust_hue under NumPy 2
# --------------------------------------------------------------------------- #
def adjust_hue_needed() -> bool:
    import numpy as np
    if importlib.util.find_spec('mmcv') is None:
        return False
    try:
        np.uint8(-1)
    except OverflowError:
        return True
    return False


def adjust_hue(img, hue_factor: float, backend: str | None = None):
    """``mmcv.adjust_hue`` with the hue shift wrapped modulo 256, as NumPy 1
    wrapped ``np.uint8`` of a negative number."""
    import cv2
    import numpy as np
    from mmcv.image import photometric
    backend = backend or photometric.imread_backend
    if backend not in ('cv2', 'pillow'):
        raise ValueError(f'backend: {backend} is not supported.')
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor:{hue_factor} is not in [-0.5, 0.5].')
    if not (isinstance(img, np.ndarray) and img.ndim in (2, 3)):
        raise TypeError('img should be ndarray with dim=[2 or 3].')
    shift = np.uint8(int(hue_factor * 255) % 256)
    if backend == 'pillow':
        from PIL import Image
        assert img.dtype == np.uint8, 'Pillow backend only support uint8 type'
        pil_image = Image.fromarray(img[..., ::-1], mode='RGB')
        h, s, v = pil_image.convert('HSV').split()
        np_h = np.array(h, dtype=np.uint8) + shift  # wraps in uint8
        pil_image = Image.merge('HSV', (Image.fromarray(np_h, 'L'), s, v))
        return np.array(pil_image.convert('RGB'), dtype=img.dtype)[..., ::-1]
    dtype = img.dtype
    h, s, v = cv2.split(cv2.cvtColor(img.astype(np.uint8),
                                     cv2.COLOR_BGR2HSV_FULL))
    h = h.astype(np.uint8) + shift
    return cv2.cvtColor(cv2.merge([h, s, v]),
                        cv2.COLOR_HSV2BGR_FULL).astype(dtype)


def install_adjust_hue() -> bool:
    if not adjust_hue_needed():
        return False
    import mmcv
    import mmcv.image
    import mmcv.image.photometric
    for module in (mmcv, mmcv.image, mmcv.image.photometric):
        module.adjust_hue = adjust_hue
    return True


# --------------------------------------------------------------------------- #
#: Needed to import the stack and read its configs: ``import mmssl_seg``.
IMPORT_SHIMS: dict[str, Callable[[], bool]] = {
    'mmcv_ext_stub': install_mmcv_ext_stub,
    'torchvision_schemas': install_torchvision_schemas,
    'pkg_resources_free_lookup': install_pkg_resources_free_lookup,
    'editable_lookup': install_editable_lookup,
}
#: Changes of mmengine / mmcv behaviour: only where our tools run.
RUNTIME_PATCHES: dict[str, Callable[[], bool]] = {
    'cpu_distributed': install_cpu_distributed,
    'adjust_hue': install_adjust_hue,
}


def _apply(shims: dict[str, Callable[[], bool]]) -> dict[str, bool]:
    for name, shim in shims.items():
        if not _APPLIED.get(name):
            _APPLIED[name] = shim()
    return {name: _APPLIED[name] for name in shims}


def install() -> dict[str, bool]:
    """Apply every import shim that is needed; return which ones were
    applied (idempotent)."""
    return _apply(IMPORT_SHIMS)


def install_runtime() -> dict[str, bool]:
    """The import shims and the runtime patches (our tools and
    ``mmssl_seg.launch``; idempotent)."""
    return {**install(), **_apply(RUNTIME_PATCHES)}
