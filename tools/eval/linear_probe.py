"""Linear probe: a 1x1 conv on a frozen model's features; the lr and epoch
are chosen on a held-out part of the training split, then the chosen probe
is scored on val (MaskContrast sec. 4.1, supplement D).

    python tools/eval/linear_probe.py CONFIG CHECKPOINT
        [--probe-config PROBE_CONFIG]
        [--feature decoder] [--lrs 0.1 0.03] [--heldout 0.1] [--seed 0]
        [--work-dir DIR] [--out-dir DIR] [--cfg-options k=v ...]
"""
import argparse
import time

from _eval_args import add_model_args
from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    add_model_args(parser, feature='decoder', init_seed=False)
    parser.add_argument(
        '--probe-config',
        default='configs/eval/linear_probe/linear-probe_1xb16-10e_voc12mini-128x128.py')
    parser.add_argument('--lrs', type=float, nargs='+', default=[0.1])
    parser.add_argument('--heldout', type=float, default=0.1,
                        help='fraction of the training ids held out')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-dir', default='work_dirs/linear_probe')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.evaluation.cli import checkpoint_arg, claim_output, finish
    from mmssl_seg.evaluation.protocols.linear_probe import run_linear_probe
    from mmssl_seg.utils.errors import one_line_errors
    claim_output(args, 'linear_probe')
    start = time.time()
    with one_line_errors():
        result = run_linear_probe(
            args.config, checkpoint_arg(args.checkpoint), args.probe_config,
            args.work_dir, feature=args.feature, in_index=args.in_index,
            lrs=args.lrs, heldout_fraction=args.heldout, seed=args.seed,
            cfg_options=args.cfg_options, allow_missing=args.allow_missing)
    result['seeds'] = [args.seed]
    finish(args, 'linear_probe', result,
           {'lr': result['chosen_lr'], 'epoch': result['chosen_epoch'],
            'held-out mIoU': result['sweep'][f'{result["chosen_lr"]:g}'][
                'heldout_mIoU'], 'val mIoU': result['val_mIoU']}, start)


if __name__ == '__main__':
    main()
