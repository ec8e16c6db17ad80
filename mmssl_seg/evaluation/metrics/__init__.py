from .segment_metric import SegmentIoUMetric

__all__ = ['SegmentIoUMetric']
