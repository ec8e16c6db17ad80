from . import hooks  # noqa: F401
from .runner import QuietStartRunner

__all__ = ['QuietStartRunner']
