"""How concentrated hierarchical grouping's pair sampling is on a folder of
region trees: one JSON line (see
:mod:`mmssl_seg.evaluation.protocols.tree_pairs`).

    python tools/analysis/tree_pair_stats.py TREE_DIR [--sigma 0.8]
        [--d-t level|altitude] [--limit N]
"""
import argparse
import json

#: mmssl_seg.structures.D_T (tests keep them equal)
D_T = ('level', 'altitude')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('tree_dir', help='a make_hierarchies.py folder')
    parser.add_argument('--sigma', type=float, default=0.8,
                        help='sigma_p of eqs. 2-3')
    parser.add_argument('--d-t', choices=D_T, default='level',
                        help='how d_T reads the tree')
    parser.add_argument('--limit', type=int, help='first N trees only')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.evaluation.protocols.tree_pairs import (
        pair_stats,
        tree_files,
    )
    from mmssl_seg.structures import RegionTree
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        trees = [RegionTree.load(f) for f in tree_files(args.tree_dir,
                                                        args.limit)]
        print(json.dumps(pair_stats(trees, args.sigma, args.d_t)))


if __name__ == '__main__':
    main()
