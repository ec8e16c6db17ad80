"""PmIoU (auxiliary-label paper, eq. 3) of a folder of label maps (auxiliary
labels, saliency masks, hierarchy cuts) against a dataset's ground truth.

    python tools/eval/pmiou.py LABEL_DIR --num-segments K [--binary]
        [--data DATA_CONFIG] [--split val] [--out-dir DIR]

Label maps are single-channel PNGs named after the images; values 0..K-1
(anything else is an ignored pixel). --binary scores 0/255 masks against
foreground (any class but 0) vs background.
"""
import argparse
import time
from types import SimpleNamespace

from _eval_args import DEFAULT_DATA


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('label_dir')
    parser.add_argument('--num-segments', type=int, default=None,
                        help='K (not needed with --binary)')
    parser.add_argument('--binary', action='store_true')
    parser.add_argument('--data', default=DEFAULT_DATA)
    parser.add_argument('--split', choices=['train', 'val'], default='val')
    parser.add_argument('--limit', type=int, default=None)
    parser.add_argument('--out-dir', default='work_dirs/eval')
    args = parser.parse_args(argv)
    if args.num_segments is None and not args.binary:
        parser.error('give --num-segments K, or --binary for masks')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.datasets.builder import build_eval_dataset
    from mmssl_seg.evaluation.cli import finish
    from mmssl_seg.evaluation.protocols.pmiou import pmiou_of_folder
    from mmssl_seg.utils.errors import one_line_errors
    start = time.time()
    with one_line_errors():
        dataset = build_eval_dataset(args.data, args.split,
                                     indices=args.limit)
        result = pmiou_of_folder(args.label_dir, dataset, args.num_segments,
                                 binary=args.binary)
    report_args = SimpleNamespace(config=args.data, checkpoint='-',
                                  out_dir=args.out_dir,
                                  feature=args.label_dir)
    finish(report_args, 'pmiou', result,
           {'K': result['num_segments'], 'M': result['num_classes'],
            'PmIoU': result['PmIoU']}, start)


if __name__ == '__main__':
    main()
