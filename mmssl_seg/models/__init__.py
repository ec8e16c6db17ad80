from . import algorithms, heads, losses, segmentors  # noqa: F401
