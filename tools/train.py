"""Train a model from a config, like MMSeg's ``tools/train.py``.

    python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp]
        [--max-iters N] [--tensorboard] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm,mpi}]

``--resume`` continues from the newest complete checkpoint of the work_dir,
the one file a run unpickles fully (resume only runs you made).
"""
import argparse
import os

from mmengine.config import DictAction


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be a positive integer, got '
                                         f'{text}')
    return value


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', action='store_true',
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--amp', action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--max-iters', type=positive_int,
        help='train this many iterations with the schedule scaled to match '
        '(milestones, poly end, checkpoint interval)')
    parser.add_argument(
        '--tensorboard', action='store_true',
        help='also log to TensorBoard (<work_dir>/<timestamp>/vis_data)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, as key=value pairs')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    # torch.distributed.launch passes --local-rank, torchrun sets the
    # variable; mmengine reads the variable
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.apis import train
    from mmssl_seg.apis.train_test import process_group_closed
    from mmssl_seg.engine.runner import (
        enable_tensorboard,
        load_config,
        rescale_schedule,
    )
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        cfg = load_config(args.config, args.work_dir, args.cfg_options,
                          args.launcher)
        if args.max_iters:  # values given with --cfg-options stay as given
            rescale_schedule(cfg, args.max_iters,
                             keep=args.cfg_options or ())
        if args.tensorboard:
            enable_tensorboard(cfg)
        with process_group_closed():
            train(cfg, resume=args.resume, amp=args.amp)


if __name__ == '__main__':
    main()
