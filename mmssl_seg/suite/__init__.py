"""One benchmark over every method: stages (cached, resumable), the
``voc12_mini`` suite and its table (``tools/benchmark.py``)."""
from .stages import Stage, run_stages
from .suite import ROWS, SUITES, SuiteOptions
from .table import collect, write_table

__all__ = [
    'ROWS', 'SUITES', 'Stage', 'SuiteOptions', 'collect', 'run_stages',
    'write_table'
]
