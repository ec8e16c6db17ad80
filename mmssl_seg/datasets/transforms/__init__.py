from .saliency import LoadSaliencyMask, PackSaliencyViews, SaliencyViews

__all__ = ['LoadSaliencyMask', 'PackSaliencyViews', 'SaliencyViews']
