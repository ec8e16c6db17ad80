"""Fine-tune a stock model on seeded label-fraction splits from a converted
checkpoint (or random init) and report mean and std of val mIoU per fraction.

    python tools/eval/label_fraction.py FINETUNE_CONFIG CHECKPOINT
        [--fractions 1 2 5 12.5 100] [--seeds 0 1 2] [--parts backbone]
        [--max-iters N] [--work-dir DIR] [--out-dir DIR]
        [--cfg-options k=v ...]

CHECKPOINT is a tensors-only file of extract_pretrained.py, or 'random'.
"""
import argparse
import time

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='fine-tuning config (stock MMSeg)')
    parser.add_argument('checkpoint')
    parser.add_argument('--fractions', type=float, nargs='+',
                        default=[1, 2, 5, 12.5, 100])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--parts', nargs='+', default=['backbone'],
                        help='parts of the model initialised from CHECKPOINT')
    parser.add_argument('--max-iters', type=int,
                        help='shorter or longer fine-tuning, schedule scaled')
    parser.add_argument('--work-dir', default='work_dirs/label_fraction')
    parser.add_argument('--out-dir', default='work_dirs/eval')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--overwrite', action='store_true',
                        help='replace the result in --out-dir')
    args = parser.parse_args(argv)
    if args.max_iters is not None and args.max_iters < 1:
        parser.error(f'--max-iters must be a positive integer, got '
                     f'{args.max_iters}')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.evaluation.cli import checkpoint_arg, claim_output, finish
    from mmssl_seg.evaluation.protocols.label_fraction import (
        run_label_fractions,
    )
    from mmssl_seg.evaluation.report import pm
    from mmssl_seg.utils.errors import one_line_errors
    claim_output(args, 'label_fraction')
    start = time.time()
    with one_line_errors():
        result = run_label_fractions(
            args.config, checkpoint_arg(args.checkpoint), args.work_dir,
            args.fractions, args.seeds, args.parts, args.cfg_options,
            args.max_iters)
    numbers = {f'{f}% mIoU': pm(r)
               for f, r in result['mIoU_per_fraction'].items()}
    finish(args, 'label_fraction', result, numbers, start)


if __name__ == '__main__':
    main()
