from .linear_probe import LinearProbe

__all__ = ['LinearProbe']
