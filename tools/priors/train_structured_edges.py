"""Train a structured edge forest (Dollar and Zitnick) on BSDS500.

    python tools/priors/train_structured_edges.py [OUT_DIR]
        [--bsds ../shared/data/bsds500] [--splits train val] [--trees 8]
        [--positives 500000] [--negatives 500000] [--seed 1]
        [--workers 2] [--shard K/N]

Writes OUT_DIR/tree_NNN.npz (one per tree, atomically: a rerun skips the
trees that exist), OUT_DIR/edges.npy (the features' quantile bins),
OUT_DIR/params.json + the shard's manifest (a rerun with other parameters is
refused), and once every tree exists OUT_DIR/forest.npz (ours) and
OUT_DIR/model.yml.gz (OpenCV's StructuredEdgeDetection format). The default
OUT_DIR, work_dirs/structured_edges, is where make_hierarchies.py finds the
forest by default; elsewhere pass it with --edge-model. Trees train in
parallel, one per worker (6.4 GB resident each at the defaults, measured;
2 workers on 2 idle cores: 15 min for the 8 trees).
"""
import argparse
import os.path as osp
import time

BSDS = osp.join(osp.dirname(__file__), '..', '..', '..', 'shared', 'data',
                'bsds500')  # as tools/eval/bsds_benchmark.py: not the cwd


#: mmssl_seg.priors.hierarchy.DEFAULT_FOREST_DIR (tests keep them equal)
DEFAULT_FOREST_DIR = 'work_dirs/structured_edges'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('out_dir', nargs='?', default=DEFAULT_FOREST_DIR)
    parser.add_argument('--bsds', default=BSDS,
                        help='BSDS500 with images/ and groundTruth/')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'])
    parser.add_argument('--trees', type=int, default=8)
    parser.add_argument('--positives', type=int, default=500_000,
                        help='patches near a boundary per tree')
    parser.add_argument('--negatives', type=int, default=500_000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--shard', help='K/N: train part K of N of the trees')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.priors.hierarchy.structured_forest import ForestOptions
    from mmssl_seg.priors.hierarchy.structured_forest_train import (
        TrainOptions,
        train_from_bsds,
    )
    from mmssl_seg.priors.manifest import parse_shard
    from mmssl_seg.utils.errors import one_line_errors
    start = time.time()
    with one_line_errors():
        result = train_from_bsds(
            args.bsds, args.splits, args.out_dir,
            ForestOptions(trees=args.trees),
            TrainOptions(positives=args.positives, negatives=args.negatives,
                         seed=args.seed),
            workers=args.workers, shard_spec=parse_shard(args.shard))
    minutes = (time.time() - start) / 60
    if result['complete']:
        print(f'forest of {args.trees} trees: {result["model"]} '
              f'({minutes:.1f} min)')
    else:
        print(f'trees of this shard done ({minutes:.1f} min); the model is '
              'written when every shard has finished (rerun any shard)')


if __name__ == '__main__':
    main()
