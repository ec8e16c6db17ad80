from .queue import FeatureQueue

__all__ = ['FeatureQueue']
