"""Negative-control priors: every image gets another image's prior.

    python tools/priors/shuffle_priors.py SRC_DIR OUT_DIR [--seed 0]
        [--ids FILE] [--workers 2] [--shard K/N]

SRC_DIR is a make_saliency.py, make_aux_labels.py or make_hierarchies.py
folder, or a plain folder of <stem>.png label maps (e.g. VOC's
SegmentationClass, for Mix-and-Match's patch labels). Each image's files in
OUT_DIR are those of a donor image (a seeded derangement: nobody keeps its
own), resized to the image's size by nearest neighbour; region trees keep
d_T between the leaves that survive the resize. The list files (ids.txt,
kept_*.txt) are copied, so a config pointed at OUT_DIR trains as on SRC_DIR.
--ids limits the images (and their donors) to those listed.
OUT_DIR/manifest.json names every image's donor. Reruns skip finished
images; another seed or source into the same folder is refused.
"""
import argparse


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src_dir')
    parser.add_argument('out_dir')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ids', help='file of image stems to use')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--shard', help='K/N: this machine does part K of N')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.priors.manifest import exit_on_failures, parse_shard
    from mmssl_seg.priors.shuffle import shuffle_priors
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        result = shuffle_priors(args.src_dir, args.out_dir, seed=args.seed,
                                shard_spec=parse_shard(args.shard),
                                workers=args.workers, ids=args.ids)
    done = len(result['entries']) - len(result['failed'])
    print(f'{done} images given a donor\'s prior in {args.out_dir} '
          f'(all shards complete: {result["complete"]})')
    exit_on_failures(result)


if __name__ == '__main__':
    main()
