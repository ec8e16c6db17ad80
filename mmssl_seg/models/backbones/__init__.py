from .hypercolumn_vgg import HypercolumnVGG

__all__ = ['HypercolumnVGG']
