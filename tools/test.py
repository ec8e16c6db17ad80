"""Evaluate a checkpoint, like MMSeg's ``tools/test.py``.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show-dir DIR] [--tta] [--allow-missing REGEX ...]
        [--cfg-options k=v ...]

CHECKPOINT's tensors are read without running code the file names, and
must fit the config's model: a weight of another shape or one the file
leaves at random init stops the test with one message naming the keys
(``--allow-missing`` names those that may stay at random init).
"""
import argparse
import os

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument('--out',
                        help='folder to save the predicted label maps')
    parser.add_argument(
        '--show-dir', help='folder (under the work_dir) for painted results')
    parser.add_argument('--tta', action='store_true', help='test time aug')
    parser.add_argument(
        '--allow-missing', nargs='*', default=[], metavar='REGEX',
        help='model keys the checkpoint may leave at random init (default: '
        'every weight must come from it)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, as key=value pairs')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.apis import test
    from mmssl_seg.apis.train_test import process_group_closed
    from mmssl_seg.engine.runner import load_config
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        cfg = load_config(args.config, args.work_dir, args.cfg_options,
                          args.launcher)
        with process_group_closed():
            test(cfg, args.checkpoint, out=args.out, show_dir=args.show_dir,
                 tta=args.tta, allow_missing=args.allow_missing)


if __name__ == '__main__':
    main()
