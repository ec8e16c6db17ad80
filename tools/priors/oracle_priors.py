"""Oracle priors: a prior folder rebuilt from the ground truth (the
prior-level positive control of the benchmark; see
mmssl_seg/priors/oracle.py).

    python tools/priors/oracle_priors.py SRC_DIR GT_DIR OUT_DIR
        [--ids FILE] [--workers 2] [--shard K/N]

SRC_DIR is a make_saliency.py, make_aux_labels.py or make_hierarchies.py
folder; GT_DIR holds the images' class-index maps (<stem>.png, 255
ignored). OUT_DIR gets the same files with the ground truth's signal:
auxiliary labels = the class map, region trees = the source tree split and
ordered by the ground-truth regions (perfect contours on top of the
source's; 255 pixels join the nearest labelled pixel's region), saliency =
every non-background class. The list files (ids.txt, kept_*.txt) are
copied, so a config pointed at OUT_DIR trains as on SRC_DIR. Reruns skip
finished images; another source or GT_DIR into the same folder is refused.
"""
import argparse


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src_dir')
    parser.add_argument('gt_dir')
    parser.add_argument('out_dir')
    parser.add_argument('--ids', help='file of image stems to use')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--shard', help='K/N: this machine does part K of N')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.priors.manifest import exit_on_failures, parse_shard
    from mmssl_seg.priors.oracle import oracle_priors
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        result = oracle_priors(args.src_dir, args.gt_dir, args.out_dir,
                               shard_spec=parse_shard(args.shard),
                               workers=args.workers, ids=args.ids)
    done = len(result['entries']) - len(result['failed'])
    print(f'{done} images given their ground truth\'s prior in '
          f'{args.out_dir} (all shards complete: {result["complete"]})')
    exit_on_failures(result)


if __name__ == '__main__':
    main()
