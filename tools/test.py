"""Evaluate a checkpoint, like MMSeg's ``tools/test.py``.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show-dir DIR] [--tta] [--trust-checkpoint] [--cfg-options k=v ...]

CHECKPOINT loads with ``weights_only=True`` unless it lies in the work_dir
(the run's own checkpoint) or ``--trust-checkpoint`` is given.
"""
import argparse

from mmssl_seg.apis import test
from mmssl_seg.apis.runner import (
    add_common_args,
    parse_common_args,
    process_group_closed,
)
from mmssl_seg.datasets.checks import DataNotFoundError
from mmssl_seg.engine.runner import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out',
                        help='folder to save the predicted label maps')
    parser.add_argument(
        '--show-dir', help='folder (under the work_dir) for painted results')
    parser.add_argument('--tta', action='store_true', help='test time aug')
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='load CHECKPOINT with full unpickling; only for files you made')
    add_common_args(parser)
    args = parse_common_args(parser)
    cfg = load_config(args.config, args.work_dir, args.cfg_options,
                      args.launcher)
    with process_group_closed():
        try:
            test(cfg, args.checkpoint, out=args.out, show_dir=args.show_dir,
                 tta=args.tta, trust_checkpoint=args.trust_checkpoint)
        except DataNotFoundError as error:  # one message, no traceback
            raise SystemExit(str(error))


if __name__ == '__main__':
    main()
