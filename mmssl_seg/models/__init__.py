from . import algorithms, losses, segmentors  # noqa: F401
