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


def parse_args(argv=None) -> argparse.Namespace:
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
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.evaluation.bn_statistics import bn_statistics_checkpoint
    from mmssl_seg.evaluation.cli import checkpoint_arg
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        meta = bn_statistics_checkpoint(
            args.config, checkpoint_arg(args.checkpoint), args.out,
            parts=args.parts, seed=args.seed, num_batches=args.batches,
            allow_missing=args.allow_missing)
    print(f'{meta["bn_statistics"]}; wrote {args.out} (tensors only; loads '
          'with weights_only=True)')


if __name__ == '__main__':
    main()
