from . import algorithms, data_preprocessors, heads, losses, necks, segmentors  # noqa: F401
