"""mmssl_seg: label-efficient pretraining for semantic segmentation.

Importing the package installs the stack shims (:mod:`mmssl_seg.compat`) and
registers our modules into MMSeg's registries, so configs with
``default_scope='mmseg'`` and ``custom_imports=dict(imports=['mmssl_seg'])``
resolve them. It also lets configs inherit ours as
``_base_ = ['mmssl_seg::mask_contrast/<config>.py']`` (read from the
package's ``.mim/configs``, as for ``mmseg::``); the config loader resolves
``_base_`` before it runs ``custom_imports``, so the package must be imported
first: our tools do, and ``python -m mmssl_seg.launch SCRIPT`` does it for
any other script (MMSeg's ``tools/train.py``).
"""
from mmengine.config.utils import MODULE2PACKAGE

from . import compat

compat.install()
MODULE2PACKAGE.setdefault('mmssl_seg', 'mmssl_seg')

# registry: the ``mmssl_seg`` scope of configs inherited through mmssl_seg::
from . import datasets, engine, evaluation, models, registry  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'compat']
