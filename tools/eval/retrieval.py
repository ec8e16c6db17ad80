"""Semantic segment retrieval: partition images (K-means on embeddings, or
saliency), describe segments by their mean embedding, label val segments by
their nearest train segments, report mIoU (hierarchical grouping sec. 5.2).

    python tools/eval/retrieval.py CONFIG CHECKPOINT [--segments 15]
        [--neighbours 1] [--saliency head|DIR]
        [--feature embedding] [--data DATA_CONFIG] [--out-dir DIR]
"""
import argparse
import time

from _eval_args import add_data_args, add_model_args


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    add_model_args(parser)
    add_data_args(parser)
    parser.add_argument('--segments', type=int, default=15)
    parser.add_argument('--neighbours', type=int, default=1)
    parser.add_argument('--saliency', help='partition into salient object '
                        "and background: 'head' (the model's saliency head) "
                        'or masks (<image stem>.png) of the train and val '
                        'images')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.datasets.builder import build_eval_dataset
    from mmssl_seg.evaluation.cli import (
        claim_output,
        finish,
        load_model_from_args,
    )
    from mmssl_seg.evaluation.protocols.clustering import saliency_source
    from mmssl_seg.evaluation.protocols.retrieval import segment_retrieval
    from mmssl_seg.utils.errors import one_line_errors
    claim_output(args, 'retrieval')
    start = time.time()
    with one_line_errors():
        model = load_model_from_args(args)
        train = build_eval_dataset(args.data, 'train', indices=args.limit)
        val = build_eval_dataset(args.data, 'val', indices=args.limit)
        saliency = saliency_source(model, args.saliency)
        result = segment_retrieval(
            model, train, val, len(val.metainfo['classes']), args.segments,
            args.neighbours, saliency, args.feature, args.in_index)
    finish(args, 'retrieval', result,
           {'partition': result['partition'], 'neighbours': args.neighbours,
            'mIoU': result['mIoU']}, start)


if __name__ == '__main__':
    main()
