"""Propagate the first frame's mask through DAVIS sequences with a model's
embeddings (k previous frames, nearest neighbours in feature space augmented
with coordinates) and report region similarity J and boundary accuracy F
(hierarchical grouping sec. 5.3).

    python tools/eval/propagate_davis.py CONFIG CHECKPOINT
        [--davis data/davis2016] [--sequences blackswan ...]
        [--scale 0.5] [--k-prev 2] [--neighbours 10] [--spatial-weight 1]
        [--max-frames N] [--feature embedding] [--out-dir DIR]
"""
import argparse
import time

from _eval_args import add_model_args


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    add_model_args(parser)
    parser.add_argument('--davis', default='data/davis2016')
    parser.add_argument('--sequences', nargs='+', default=None)
    parser.add_argument('--scale', type=float, default=0.5,
                        help='frames are resized by this before the model')
    parser.add_argument('--k-prev', type=int, default=2)
    parser.add_argument('--neighbours', type=int, default=10)
    parser.add_argument('--spatial-weight', type=float, default=1.0,
                        help='scale of the (y, x) in [0, 1] appended to the '
                        'unit-length features for the neighbour search')
    parser.add_argument('--max-frames', type=int, default=None)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.evaluation.cli import (
        claim_output,
        finish,
        load_model_from_args,
    )
    from mmssl_seg.evaluation.protocols.propagation import propagate_davis
    from mmssl_seg.utils.errors import one_line_errors
    claim_output(args, 'davis_propagation')
    start = time.time()
    with one_line_errors():
        model = load_model_from_args(args)
        result = propagate_davis(
            model, args.davis, args.sequences, args.max_frames,
            scale=args.scale, k_prev=args.k_prev, neighbours=args.neighbours,
            spatial_weight=args.spatial_weight, kind=args.feature,
            in_index=args.in_index)
    finish(args, 'davis_propagation', result,
           {'J': result['J'], 'F': result['F'], 'J&F': result['J&F'],
            'sequences': len(result['sequences'])}, start)


if __name__ == '__main__':
    main()
