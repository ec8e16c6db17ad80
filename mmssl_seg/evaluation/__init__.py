from . import metrics, segmentors  # noqa: F401
