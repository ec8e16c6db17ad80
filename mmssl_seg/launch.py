"""Run a script with the plugin imported first.

    python -m mmssl_seg.launch path/to/mmsegmentation/tools/train.py CONFIG ...
    torchrun --nproc_per_node 4 -m mmssl_seg.launch .../tools/train.py CONFIG \
        --launcher pytorch

mmengine resolves a config's ``_base_`` (``mmssl_seg::...``) before it runs
the config's ``custom_imports``, so a script that does not import
``mmssl_seg`` itself (MMSeg's own ``tools/train.py``) cannot read configs
that inherit ours. This imports the plugin (its scope, registries and stack
shims), applies the runtime patches our own tools apply
(:func:`mmssl_seg.compat.install_runtime`: CPU DDP, mmcv's hue under NumPy 2),
then runs the script as ``__main__`` with the remaining arguments.
"""
from __future__ import annotations

import runpy
import sys

import mmssl_seg  # registers ``mmssl_seg::`` and our modules


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ('-h', '--help'):
        print(__doc__)
        raise SystemExit(0 if argv else 2)
    mmssl_seg.compat.install_runtime()
    sys.argv = list(argv)
    runpy.run_path(argv[0], run_name='__main__')


if __name__ == '__main__':
    main()
