from .runner import test, train

__all__ = ['test', 'train']
