from .train_test import test, train

__all__ = ['test', 'train']
