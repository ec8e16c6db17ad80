"""What every speed script shares: where the data sets are and how a result
is written (``python benchmarks/<script>.py`` puts this folder on the
path; importing this module puts the repository there too, for
``benchmarks.suite``)."""
import json
import os
import os.path as osp
import sys

from mmssl_seg import compat
from mmssl_seg.utils.io import write_json

compat.install_runtime()  # as our tools: CPU DDP, mmcv's hue under NumPy 2

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
# the data sets: $MMSSL_DATA or the configs' default data/
DATA = os.environ.get('MMSSL_DATA', osp.join(REPO, 'data'))


def write_result(result: dict, out: str) -> None:
    """Write ``result`` as JSON to ``out`` (atomically, folders made) and
    print it."""
    write_json(out, result)
    print(json.dumps(result, indent=2))
