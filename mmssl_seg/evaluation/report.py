"""What every protocol leaves behind: a JSON result and a Markdown table row
(config, checkpoint, seeds, wall time and the numbers)."""
from __future__ import annotations

import datetime
import os
import os.path as osp
import platform
from typing import Any, Mapping

from mmssl_seg.utils.io import atomic_path, write_json


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f'{value:.2f}'
    return str(value).replace('|', '\\|')


def write_report(out_dir: str, protocol: str, result: Mapping[str, Any],
                 row: Mapping[str, Any]) -> str:
    """Write ``<out_dir>/<protocol>.json`` and add ``row`` to
    ``<out_dir>/<protocol>.md`` (a table; a row with the same columns
    extends it, other columns start a new table).

    Returns:
        The JSON path.
    """
    payload = dict(result)
    payload.setdefault('protocol', protocol)
    payload.setdefault('date', datetime.datetime.now().isoformat(
        timespec='seconds'))
    payload.setdefault('host', f'{platform.node()} ({os.cpu_count()} CPUs)')
    json_path = osp.join(out_dir, f'{protocol}.json')
    write_json(json_path, payload)

    md_path = osp.join(out_dir, f'{protocol}.md')
    header = '| ' + ' | '.join(row) + ' |'
    line = '| ' + ' | '.join(_cell(v) for v in row.values()) + ' |'
    old = open(md_path).read() if osp.isfile(md_path) else ''
    if header in old.splitlines():
        text = old.rstrip('\n') + '\n' + line + '\n'
    else:
        rule = '|' + '|'.join('---' for _ in row) + '|'
        text = (old + '\n' if old else '') + '\n'.join(
            (header, rule, line)) + '\n'
    with atomic_path(md_path) as tmp:
        with open(tmp, 'w') as f:
            f.write(text)
    return json_path


def mean_std(values) -> dict:
    """``{'mean', 'std', 'runs'}`` of a list of numbers (population std)."""
    import numpy as np
    values = np.asarray(list(values), dtype=np.float64)
    return {'mean': float(values.mean()), 'std': float(values.std()),
            'runs': [float(v) for v in values]}


def pm(stats: Mapping[str, Any]) -> str:
    """``"mean ± std"`` for a Markdown cell."""
    return f'{stats["mean"]:.2f} ± {stats["std"]:.2f}'
