from .runner import build_runner, load_config, rescale_schedule, test, train

__all__ = [
    'build_runner', 'load_config', 'rescale_schedule', 'test', 'train'
]
