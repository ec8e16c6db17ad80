from . import segmentors  # noqa: F401
