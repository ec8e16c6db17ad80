"""Train a model from a config, like MMSeg's ``tools/train.py``.

    python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp]
        [--max-iters N] [--tensorboard] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm,mpi}]
"""
import argparse

from mmssl_seg.apis import train
from mmssl_seg.apis.runner import (
    add_common_args,
    parse_common_args,
    process_group_closed,
)
from mmssl_seg.datasets.checks import DataNotFoundError
from mmssl_seg.engine.runner import (
    enable_tensorboard,
    load_config,
    rescale_schedule,
)


def main() -> None:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', action='store_true',
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--amp', action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--max-iters', type=int,
        help='train this many iterations with the schedule scaled to match '
        '(milestones, poly end, checkpoint interval)')
    parser.add_argument(
        '--tensorboard', action='store_true',
        help='also log to TensorBoard (<work_dir>/<timestamp>/vis_data)')
    add_common_args(parser)
    args = parse_common_args(parser)
    cfg = load_config(args.config, args.work_dir, args.cfg_options,
                      args.launcher)
    if args.max_iters:  # values given with --cfg-options stay as given
        rescale_schedule(cfg, args.max_iters, keep=args.cfg_options or ())
    if args.tensorboard:
        enable_tensorboard(cfg)
    with process_group_closed():
        try:
            train(cfg, resume=args.resume, amp=args.amp)
        except DataNotFoundError as error:  # one message, no traceback
            raise SystemExit(str(error))


if __name__ == '__main__':
    main()
