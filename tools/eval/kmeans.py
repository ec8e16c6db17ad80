"""Pixel- or object-level K-means of a model's embeddings, scored against the
ground truth with Hungarian matching (K = classes) or majority mapping
(overclustering), mean and std over seeds (MaskContrast sec. 4.4).

    python tools/eval/kmeans.py CONFIG CHECKPOINT [--level pixel|object]
        [--ks 21 50 100 200 500] [--seeds 0 1 2 3 4] [--saliency DIR]
        [--feature embedding] [--data DATA_CONFIG] [--out-dir DIR]
"""
import argparse
import time

from mmssl_seg.evaluation.cli import (add_data_args, add_model_args, finish,
                                      load_model_from_args)
from mmssl_seg.evaluation.features import build_eval_dataset
from mmssl_seg.evaluation.protocols.clustering import (SaliencyMasks,
                                                       object_kmeans,
                                                       pixel_kmeans)
from mmssl_seg.evaluation.report import pm


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_model_args(parser)
    add_data_args(parser)
    parser.add_argument('--level', choices=['pixel', 'object'],
                        default='pixel')
    parser.add_argument('--ks', type=int, nargs='+', default=None,
                        help='numbers of clusters (default: the classes, '
                        'minus background at object level)')
    parser.add_argument('--seeds', type=int, nargs='+',
                        default=[0, 1, 2, 3, 4])
    parser.add_argument('--saliency', help='folder of salient-object masks '
                        '(<image stem>.png), for --level object')
    args = parser.parse_args(argv)
    start = time.time()
    model = load_model_from_args(args)
    dataset = build_eval_dataset(args.data, 'val', indices=args.limit)
    num_classes = len(dataset.metainfo['classes'])
    if args.level == 'pixel':
        result = pixel_kmeans(model, dataset, num_classes,
                              args.ks or [num_classes], args.seeds,
                              args.feature, args.in_index)
    else:
        if not args.saliency:
            parser.error('--level object needs --saliency')
        result = object_kmeans(model, dataset, num_classes,
                               SaliencyMasks(args.saliency), args.ks,
                               args.seeds, args.feature, args.in_index)
    numbers = {'level': args.level}
    for k, r in result['K'].items():
        numbers[f'K={k} mIoU ({r["mapping"]})'] = pm(r['mIoU'])
    finish(args, f'kmeans_{args.level}', result, numbers, start)


if __name__ == '__main__':
    main()
