from .colorization import ColorizationDataPreProcessor

__all__ = ['ColorizationDataPreProcessor']
