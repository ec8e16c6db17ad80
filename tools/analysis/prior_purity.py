"""How much priors agree with the ground truth: the texture / class purity
of region-tree leaves, of label maps (auxiliary labels, saliency masks, a
shuffled copy of either) and of fixed grids (what position alone says).
One JSON object: purity per source, pooled over the images' pixels, and
for trees the agreement of hierarchical grouping's pixel pairs (drawn as the
method draws them, ``--pairs`` per image): the share of positives inside one
class and of negatives across two.

    python tools/analysis/prior_purity.py GT_DIR [--ids FILE]
        [--trees NAME=DIR ...] [--labels NAME=DIR ...] [--grid N ...]
        [--pairs 1000] [--d-t level] [--sigma 0.8]

GT_DIR holds ``<id>.png`` class-index maps (255 ignored); a trees DIR is a
make_hierarchies.py / shuffle_priors.py folder (``trees/<id>.npz``); a
labels DIR holds ``<id>.png`` (or ``labels/<id>.png``), 255 = no region.
"""
import argparse
import json
import os
import os.path as osp

#: mmssl_seg.structures.D_T (tests keep them equal)
D_T = ('level', 'altitude')


def _named(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, path = value.partition('=')
        if not sep:
            raise SystemExit(f'error: {value!r} is not NAME=DIR')
        out[name] = path
    return out


def _label_file(folder: str, stem: str) -> str:
    for path in (osp.join(folder, 'labels', f'{stem}.png'),
                 osp.join(folder, f'{stem}.png')):
        if osp.isfile(path):
            return path
    raise SystemExit(f'error: no label map for {stem} in {folder}')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('gt_dir')
    parser.add_argument('--ids', help='file of image stems (default: all)')
    parser.add_argument('--trees', nargs='+', default=[])
    parser.add_argument('--labels', nargs='+', default=[])
    parser.add_argument('--grid', type=int, nargs='+', default=[])
    parser.add_argument('--pairs', type=int, default=1000,
                        help='pairs drawn per image and tree (0: none)')
    parser.add_argument('--d-t', choices=D_T, default='level',
                        help="d_T of the pairs (the configs' default)")
    parser.add_argument('--sigma', type=float, default=0.8)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    import numpy as np
    from PIL import Image

    from mmssl_seg.evaluation.functional import (
        grid_segments,
        region_purity,
        tree_pair_agreement,
    )
    from mmssl_seg.structures import RegionTree
    if args.ids:
        ids = open(args.ids).read().split()
    else:
        ids = sorted(osp.splitext(f)[0] for f in os.listdir(args.gt_dir)
                     if f.endswith('.png'))
    trees, labels = _named(args.trees), _named(args.labels)
    totals = {name: [0, 0] for name in
              [*trees, *labels, *[f'grid_{n}x{n}' for n in args.grid]]}
    pairs = {name: np.zeros(4, np.int64) for name in trees}
    for index, stem in enumerate(ids):
        gt = np.array(Image.open(osp.join(args.gt_dir, f'{stem}.png')))
        segments = {f'grid_{n}x{n}': grid_segments(*gt.shape, n)
                    for n in args.grid}
        loaded = {}
        for name, folder in trees.items():
            path = osp.join(folder, 'trees', f'{stem}.npz')
            if not osp.isfile(path):
                raise SystemExit(f'error: no tree for {stem}: {path}')
            loaded[name] = RegionTree.load(path)
            segments[name] = loaded[name].leaves
        for name, folder in labels.items():
            region = np.array(Image.open(_label_file(folder, stem)),
                              dtype=np.int64)
            region[region == 255] = -1
            segments[name] = region
        for name, seg in segments.items():
            if seg.shape != gt.shape:
                raise SystemExit(f'error: {name} of {stem} is {seg.shape}, '
                                 f'its ground truth {gt.shape}')
            pure, pixels = region_purity(seg, gt)
            totals[name][0] += pure
            totals[name][1] += pixels
        if args.pairs:
            for name, tree in loaded.items():
                pairs[name] += tree_pair_agreement(
                    tree.leaves, tree.distances(args.d_t), gt, args.pairs,
                    args.sigma, seed=index)
    out = {'images': len(ids), 'purity': {
        name: round(pure / max(pixels, 1), 4)
        for name, (pure, pixels) in totals.items()}}
    if args.pairs and trees:
        out['pairs'] = {name: {
            'positive_same_class': round(c[0] / max(c[1], 1), 4),
            'negative_other_class': round(c[2] / max(c[3], 1), 4)}
            for name, c in pairs.items()}
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
