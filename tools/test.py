"""Evaluate a checkpoint, like MMSeg's ``tools/test.py``.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show-dir DIR] [--tta] [--trust-checkpoint] [--cfg-options k=v ...]

CHECKPOINT loads with ``weights_only=True`` unless it lies in the work_dir
(the run's own checkpoint) or ``--trust-checkpoint`` is given.
"""
import argparse

from mmengine.config import DictAction

from mmssl_seg.apis import load_config, test
from mmssl_seg.apis.runner import set_local_rank_env


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument('--out', help='folder to save the predicted label maps')
    parser.add_argument(
        '--show-dir', help='folder (under the work_dir) for painted results')
    parser.add_argument('--tta', action='store_true', help='test time aug')
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='load CHECKPOINT with full unpickling; only for files you made')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, as key=value pairs')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    set_local_rank_env(args.local_rank)
    return args


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.work_dir, args.cfg_options,
                      args.launcher)
    test(cfg, args.checkpoint, out=args.out, show_dir=args.show_dir,
         tta=args.tta, trust_checkpoint=args.trust_checkpoint)


if __name__ == '__main__':
    main()
