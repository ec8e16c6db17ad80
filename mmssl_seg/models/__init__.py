from . import algorithms, heads, losses, necks, segmentors  # noqa: F401
