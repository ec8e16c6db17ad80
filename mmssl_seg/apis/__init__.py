from .runner import build_runner, load_config, test, train

__all__ = ['build_runner', 'load_config', 'test', 'train']
