"""Salient-object masks for MaskContrast (offline prior).

    python tools/priors/make_saliency.py OUT_DIR
        (--images DIR [--ids FILE] | --data DATA_CONFIG [--splits train val])
        [--method rbd|spectral_residual|fine_grained|imported|network]
        [--import-dir DIR] [--network-config CFG --network-checkpoint PTH]
        [--threshold 0.5] [--min-component 0.01] [--min-salient 0.01]
        [--workers 2] [--shard K/N] [--gt-dir DIR --gt-kind classes|binary]

With --data, OUT_DIR/kept_<split>.txt lists the kept images of each split:
pretrain on kept_train.txt. Unsupervised, as in the paper: `--method rbd`
(hand-crafted), then train the bootstrapping network on those masks
(configs/mask_contrast/saliency-net_*) and run again with `--method
network`. `--method imported` validates and converts masks you already
have. Writes OUT_DIR/soft, OUT_DIR/masks,
OUT_DIR/kept.txt, OUT_DIR/manifest.json and, with ground truth,
OUT_DIR/saliency_quality.{json,md}. Reruns skip finished images; shards can
run on different machines into the same folder.
"""
import argparse
import time

METHODS = ('rbd', 'spectral_residual', 'fine_grained', 'imported', 'network')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('out_dir')
    parser.add_argument('--images', help='folder of images')
    parser.add_argument('--ids', help='file of image stems to use')
    parser.add_argument('--data', help='dataset config instead of --images')
    parser.add_argument('--splits', nargs='+', default=['train'])
    parser.add_argument('--method', default='rbd', choices=METHODS)
    parser.add_argument('--import-dir')
    parser.add_argument('--network-config')
    parser.add_argument('--network-checkpoint')
    parser.add_argument('--threshold', type=float, default=0.5)
    parser.add_argument('--min-component', type=float, default=0.01)
    parser.add_argument('--min-salient', type=float, default=0.01)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--shard', help='K/N: this machine does part K of N')
    parser.add_argument('--strict', action='store_true',
                        help='stop at the first unreadable image (default: '
                        'skip it, list it, exit 1 at the end)')
    parser.add_argument('--gt-dir', help='ground truth for the quality report')
    parser.add_argument('--gt-kind', choices=['classes', 'binary'],
                        default='classes')
    args = parser.parse_args(argv)
    if args.method == 'network' and not (args.network_config and
                                         args.network_checkpoint):
        parser.error('--method network needs --network-config and '
                     '--network-checkpoint')
    if args.method == 'imported' and not args.import_dir:
        parser.error('--method imported needs --import-dir')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        run(args)


def run(args: argparse.Namespace) -> None:
    from mmssl_seg.datasets.ground_truth import ground_truth_reader
    from mmssl_seg.evaluation.report import write_report
    from mmssl_seg.priors.manifest import (
        exit_on_failures,
        list_images,
        parse_shard,
    )
    from mmssl_seg.priors.saliency import make_saliency, saliency_network
    start = time.time()
    shard_spec = parse_shard(args.shard)
    split_of = {}
    images = list_images(args.images, args.ids, args.data, args.splits,
                         split_of)
    network = saliency_network(args.network_config, args.network_checkpoint) \
        if args.method == 'network' else None
    ground_truth = ground_truth_reader(
        args.gt_dir, 'foreground' if args.gt_kind == 'classes' else 'binary') \
        if args.gt_dir else None
    result = make_saliency(
        images, args.out_dir, method=args.method, threshold=args.threshold,
        min_component=args.min_component, min_salient=args.min_salient,
        workers=args.workers, shard_spec=shard_spec,
        import_dir=args.import_dir, network=network,
        ground_truth=ground_truth, split_of=split_of, strict=args.strict)
    print(f'{result["kept"]} kept, {result["dropped"]} dropped of '
          f'{len(result["entries"])} images (all shards complete: '
          f'{result["complete"]})')
    if 'quality' in result:
        q = result['quality']
        write_report(
            args.out_dir, 'saliency_quality',
            {'params': result['params'], **q},
            {'method': args.method, 'images': q['images'],
             'max F-beta': q['max_F_beta'], 'MAE': q['MAE'],
             'mask PmIoU': q['mask_PmIoU'], 'kept': result['kept'],
             'wall time': f'{time.time() - start:.0f} s'})
        print(f'max F-beta {q["max_F_beta"]:.3f}  MAE {q["MAE"]:.3f}  '
              f'mask PmIoU {q["mask_PmIoU"]:.1f}')
    exit_on_failures(result)


if __name__ == '__main__':
    main()
