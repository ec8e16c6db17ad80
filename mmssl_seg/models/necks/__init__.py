from .hypercolumn_neck import HypercolumnNeck

__all__ = ['HypercolumnNeck']
