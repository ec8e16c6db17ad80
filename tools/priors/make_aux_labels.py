"""Auxiliary labels for the auxiliary-label contrast method (offline prior).

    python tools/priors/make_aux_labels.py OUT_DIR EXTRACTOR_CONFIG CHECKPOINT
        (--images DIR [--ids FILE] | --data DATA_CONFIG [--splits train])
        [--feature backbone|decoder] [--scales 1 2 4]
        [--num-classes M | --k K]
        [--sample-images 5000] [--max-points N] [--fit-memory-gb G]
        [--drop 0.05]
        [--superpixel-size 16] [--compactness 10] [--seed 0]
        [--stage all|fit|label] [--shard K/N]
        [--gt-dir DIR] [--sweep-k 15 30 45 --sweep-images 100]
        [--picture N]

The extractor is any config + checkpoint ('random' for random init): an
MMPretrain classifier with --feature backbone (the map before global pooling;
the paper's scales 1 2 4) or an MMSeg segmentor with --feature decoder
(features before the classifier; scales 0.5 0.75 1 1.5 2). K is 1.5 M (the
paper), M the classes of the target data: --num-classes, or the classes of
--data's dataset when it names them. With shards, run `--stage fit` once, then
`--stage label --shard K/N` anywhere (same folder). Writes OUT_DIR/labels,
OUT_DIR/superpixels, centres.npz/json, manifest.json and, with --gt-dir,
aux_label_quality.{json,md} (PmIoU, eq. 3) and a picture.
"""
from __future__ import annotations

import argparse
import time


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('out_dir')
    parser.add_argument('config', help='config of the feature extractor')
    parser.add_argument('checkpoint', help="its weights, or 'random' (a "
                        'random init seeded by --seed)')
    parser.add_argument('--images')
    parser.add_argument('--ids')
    parser.add_argument('--data')
    parser.add_argument('--splits', nargs='+', default=['train'])
    parser.add_argument('--feature', default='backbone')
    parser.add_argument('--in-index', type=int, default=-1)
    parser.add_argument('--scales', type=float, nargs='+',
                        default=[1.0, 2.0, 4.0])
    parser.add_argument('--k', type=int)
    parser.add_argument('--num-classes', type=int,
                        help='M, the classes of the target data: K = 1.5 M '
                        "(default: the classes of --data's dataset)")
    parser.add_argument('--sample-images', type=int, default=5000)
    parser.add_argument('--max-points', type=int, default=None,
                        help='at most this many fit points (default: every '
                        'pixel of the sampled images, as the paper)')
    parser.add_argument('--fit-memory-gb', type=float, default=None,
                        help='memory for the fit points (default: half of '
                        "this machine's); beyond it each image gives an "
                        'equal share')
    parser.add_argument('--drop', type=float, default=0.05)
    parser.add_argument('--superpixel-size', type=int, default=16)
    parser.add_argument('--compactness', type=float, default=10.0)
    parser.add_argument('--seed', type=int, default=0,
                        help='seeds the random extractor, the fit sample '
                        'and K-means')
    parser.add_argument('--stage', choices=['all', 'fit', 'label'],
                        default='all')
    parser.add_argument('--shard', help='K/N: this machine does part K of N')
    parser.add_argument('--strict', action='store_true',
                        help='stop at the first unreadable image (default: '
                        'skip it, list it, exit 1 at the end)')
    parser.add_argument('--gt-dir', help='class-index ground truth (PmIoU)')
    parser.add_argument('--sweep-k', type=int, nargs='+',
                        help='only report PmIoU for these K')
    parser.add_argument('--sweep-images', type=int, default=100)
    parser.add_argument('--picture', type=int, default=4,
                        help='images in the picture (0: none)')
    args = parser.parse_args(argv)
    if args.sweep_k and not args.gt_dir:
        parser.error('--sweep-k needs --gt-dir')
    if args.gt_dir and args.num_classes is None:
        parser.error('--gt-dir needs --num-classes (the ground truth\'s)')
    if not 0 <= args.drop < 1:
        parser.error(f'--drop must be in [0, 1), got {args.drop}')
    return args


def target_classes(data: str | None, split: str) -> int:
    """The classes of ``data``'s dataset, for K = 1.5 M; an error when the
    images carry none (unlabelled frames, a folder)."""
    from mmssl_seg.datasets.builder import split_dataset
    from mmssl_seg.utils.errors import ArgumentError
    classes = split_dataset(data, split).metainfo.get('classes') \
        if data else None
    if not classes:
        raise ArgumentError('give --num-classes M, the classes of the target '
                            'data (K = 1.5 M, as the paper), or --k K: the '
                            f'images ({data or "--images"}) name no classes')
    return len(classes)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        run(args)


def run(args: argparse.Namespace) -> None:
    from mmengine.runner import set_random_seed

    from mmssl_seg.checkpoint.io import state_dict_sha256
    from mmssl_seg.checkpoint.loading import load_model
    from mmssl_seg.datasets.ground_truth import ground_truth_reader
    from mmssl_seg.evaluation.cli import checkpoint_arg
    from mmssl_seg.evaluation.report import write_report
    from mmssl_seg.priors.aux_labels import (
        MultiScaleExtractor,
        draw_aux_labels,
        ground_truth_palette,
        label_quality,
        make_aux_labels,
        sweep_k,
    )
    from mmssl_seg.priors.manifest import (
        exit_on_failures,
        list_images,
        parse_shard,
    )
    start = time.time()
    shard_spec = parse_shard(args.shard)
    images = list_images(args.images, args.ids, args.data, args.splits)
    if args.num_classes is None and not args.k:
        args.num_classes = target_classes(args.data, args.splits[0])
    k = args.k or round(1.5 * args.num_classes)  # the paper's K
    # a random extractor is one seeded draw: a rerun (after a kill, or on
    # another shard) labels with the network the centres were fitted on
    set_random_seed(args.seed)
    model = load_model(args.config, checkpoint_arg(args.checkpoint),
                       kind=args.feature)
    extractor = MultiScaleExtractor(model, args.feature, args.scales,
                                    args.in_index)
    ground_truth = ground_truth_reader(args.gt_dir, 'classes') \
        if args.gt_dir else None
    if args.sweep_k:
        rows = sweep_k(images[:args.sweep_images], extractor, args.sweep_k,
                       ground_truth, args.num_classes,
                       max_points=args.max_points, drop=args.drop,
                       superpixel_size=args.superpixel_size,
                       compactness=args.compactness, seed=args.seed)
        for row in rows:
            print(f'K={row["K"]:4d}  PmIoU {row["PmIoU"]:.2f}')
        write_report(args.out_dir, 'aux_label_sweep', {'rows': rows}, {
            'extractor': args.config, 'images': min(len(images),
                                                    args.sweep_images),
            **{f'K={r["K"]}': r['PmIoU'] for r in rows}})
        return
    result = make_aux_labels(
        images, args.out_dir, extractor,
        # the extractor's weights by content (random init included): a
        # rerun with other weights is refused instead of mixing labels
        dict(config=args.config, checkpoint=args.checkpoint,
             weights_sha256=state_dict_sha256(model.state_dict()),
             feature=args.feature, in_index=args.in_index,
             scales=args.scales), k=k, sample_images=args.sample_images,
        max_points=args.max_points, fit_memory_gb=args.fit_memory_gb,
        drop=args.drop, superpixel_size=args.superpixel_size,
        compactness=args.compactness, seed=args.seed,
        shard_spec=shard_spec, stage=args.stage, strict=args.strict)
    if args.stage == 'fit':
        print(f'centres: {result["centres"]} (threshold '
              f'{result["threshold"]:.4f})')
        exit_on_failures(result)
        return
    print(f'{len(result["entries"])} images labelled (all shards complete: '
          f'{result["complete"]})')
    if ground_truth is not None:
        q = result['quality'] = label_quality(result, args.out_dir,
                                              ground_truth, args.num_classes)
        write_report(args.out_dir, 'aux_label_quality',
                     {'params': result['params'], **q},
                     {'extractor': args.config, 'checkpoint': args.checkpoint,
                      'K': k, 'images': q['images'], 'PmIoU': q['PmIoU'],
                      'wall time': f'{time.time() - start:.0f} s'})
        print(f'PmIoU {q["PmIoU"]:.2f} (K={k}, {q["images"]} images)')
    if args.picture:
        palette = ground_truth_palette(args.data, args.splits[0])
        drawn = [i for i in images if i[0] not in result['failed']]
        path = draw_aux_labels(args.out_dir, drawn[:args.picture], k,
                               f'{args.out_dir}/aux_labels.png',
                               ground_truth, palette)
        print(f'wrote {path}')
    exit_on_failures(result)


if __name__ == '__main__':
    main()
