"""The data-statistics control: a model's weights (or random init) with its
batch-norm statistics recomputed on the config's training images (PreciseBN;
no labels, no gradient), written as a tensors-only file that the frozen
protocols read like any pretrained backbone.

    python tools/eval/bn_statistics.py CONFIG CHECKPOINT OUT
        [--parts backbone] [--seed 0] [--batches N] [--allow-missing REGEX]

CHECKPOINT is ``random`` for the baseline. A method that does not beat this
row has not been shown to have learned more than the data's statistics.
"""
import argparse
import sys

from mmssl_seg.evaluation.bn_statistics import bn_statistics_checkpoint
from mmssl_seg.evaluation.cli import checkpoint_arg


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('config', help='config of the model (its '
                        'train_dataloader gives the images)')
    parser.add_argument('checkpoint', help="its weights, or 'random'")
    parser.add_argument('out', help='output: tensors-only checkpoint')
    parser.add_argument('--parts', nargs='+', default=['backbone'])
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random init and of the batches')
    parser.add_argument('--batches', type=int, default=None,
                        help='batches to average over (default: one pass '
                        'over the training set)')
    parser.add_argument('--allow-missing', nargs='*', default=[],
                        metavar='REGEX',
                        help='keys of the parts the checkpoint may leave at '
                        'random init')
    args = parser.parse_args(argv)
    from mmssl_seg.models.builder import IncompleteWeightsError
    try:
        meta = bn_statistics_checkpoint(
            args.config, checkpoint_arg(args.checkpoint), args.out,
            parts=args.parts, seed=args.seed, num_batches=args.batches,
            allow_missing=args.allow_missing)
    except (IncompleteWeightsError, ValueError, FileNotFoundError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'{meta["bn_statistics"]}; wrote {args.out} (tensors only; loads '
          'with weights_only=True)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
