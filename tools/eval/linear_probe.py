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

from mmengine.config import DictAction

from mmssl_seg.evaluation.cli import (
    add_model_args,
    checkpoint_arg,
    claim_output,
    finish,
)
from mmssl_seg.evaluation.protocols.linear_probe import run_linear_probe


def main(argv=None) -> None:
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
    args = parser.parse_args(argv)
    claim_output(args, 'linear_probe')
    start = time.time()
    from mmssl_seg.models.builder import IncompleteWeightsError
    try:
        result = run_linear_probe(
            args.config, checkpoint_arg(args.checkpoint), args.probe_config,
            args.work_dir, feature=args.feature, in_index=args.in_index,
            lrs=args.lrs, heldout_fraction=args.heldout, seed=args.seed,
            cfg_options=args.cfg_options, allow_missing=args.allow_missing)
    except (IncompleteWeightsError, FileExistsError) as error:
        raise SystemExit(f'error: {error}') from None
    result['seeds'] = [args.seed]
    finish(args, 'linear_probe', result,
           {'lr': result['chosen_lr'], 'epoch': result['chosen_epoch'],
            'held-out mIoU': result['sweep'][f'{result["chosen_lr"]:g}'][
                'heldout_mIoU'], 'val mIoU': result['val_mIoU']}, start)


if __name__ == '__main__':
    main()
