"""The evaluation suite (``tools/benchmark.py``): every method against its
controls under one budget: stages (cached, resumable, keyed on their
commands, configs and code), the ``mosaic`` and ``voc12_mini`` regimes and
their table. A development tool of the checkout, beside the speed scripts;
not part of the package."""
from .stages import Stage, run_stages
from .suite import REGIMES, ROWS, SUITES, SuiteOptions, suite_stages
from .table import collect, write_table

__all__ = [
    'REGIMES', 'ROWS', 'SUITES', 'Stage', 'SuiteOptions', 'collect',
    'run_stages', 'suite_stages', 'write_table'
]
