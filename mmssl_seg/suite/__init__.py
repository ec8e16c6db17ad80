"""One benchmark over every method: stages (cached, resumable), the
``voc12_mini`` suite and its table (``tools/benchmark.py``)."""
from .stages import Stage, run_stages
from .suite import REGIMES, ROWS, SUITES, SuiteOptions, suite_stages
from .table import collect, write_table

__all__ = [
    'REGIMES', 'ROWS', 'SUITES', 'Stage', 'SuiteOptions', 'collect',
    'run_stages', 'suite_stages', 'write_table'
]
