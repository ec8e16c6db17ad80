"""mmssl_seg: label-efficient pretraining for semantic segmentation.

Importing the package installs the stack shims (:mod:`mmssl_seg.compat`) and
registers our modules into MMSeg's registries, so configs with
``default_scope='mmseg'`` and ``custom_imports=dict(imports=['mmssl_seg'])``
resolve them.
"""
from . import compat

compat.install()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'compat']
