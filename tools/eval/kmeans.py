"""Pixel- or object-level K-means of a model's embeddings, scored against the
ground truth with Hungarian matching (K = classes) or majority mapping
(overclustering), mean and std over seeds (MaskContrast sec. 4.4).

    python tools/eval/kmeans.py CONFIG CHECKPOINT [--level pixel|object]
        [--ks 21 50 100 200 500] [--seeds 0 1 2 3 4] [--saliency head|DIR]
        [--object-rule paper|official] [--feature embedding]
        [--data DATA_CONFIG] [--out-dir DIR]

At object level the salient objects come from the model's own saliency head
(``--saliency head``, the default, as the MaskContrast paper) or from a
folder of masks (``--saliency DIR``).
"""
import argparse
import time

from _eval_args import add_data_args, add_model_args


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    add_model_args(parser, feature=None)
    add_data_args(parser)
    parser.add_argument('--level', choices=['pixel', 'object'],
                        default='pixel')
    parser.add_argument('--object-rule', choices=['paper', 'official'],
                        default='paper',
                        help="object embeddings: the paper's mean of "
                        "normalised pixel embeddings, or the authors' code's "
                        'saliency-weighted sum with PCA whitening '
                        '(configs/mask_contrast/README.md)')
    parser.add_argument('--ks', type=int, nargs='+', default=None,
                        help='numbers of clusters (default: the classes, '
                        'minus background at object level)')
    parser.add_argument('--seeds', type=int, nargs='+',
                        default=[0, 1, 2, 3, 4])
    parser.add_argument('--saliency', default='head',
                        help="for --level object: 'head' (the model's "
                        'saliency head) or a folder of masks (<stem>.png)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.datasets.builder import build_eval_dataset
    from mmssl_seg.evaluation.cli import (
        claim_output,
        finish,
        load_model_from_args,
    )
    from mmssl_seg.evaluation.protocols.clustering import (
        object_kmeans,
        pixel_kmeans,
        saliency_source,
    )
    from mmssl_seg.evaluation.report import pm
    from mmssl_seg.utils.errors import one_line_errors
    claim_output(args, f'kmeans_{args.level}')
    start = time.time()
    with one_line_errors():
        model = load_model_from_args(args)
        dataset = build_eval_dataset(args.data, 'val', indices=args.limit)
        num_classes = len(dataset.metainfo['classes'])
        if args.level == 'pixel':
            result = pixel_kmeans(model, dataset, num_classes,
                                  args.ks or [num_classes], args.seeds,
                                  args.feature, args.in_index)
        else:
            result = object_kmeans(model, dataset, num_classes,
                                   saliency_source(model, args.saliency),
                                   args.ks, args.seeds, args.feature,
                                   args.in_index, rule=args.object_rule)
    numbers = {'level': args.level}
    if args.level == 'object':
        result['saliency'] = args.saliency
    for k, r in result['K'].items():
        numbers[f'K={k} mIoU ({r["mapping"]})'] = pm(r['mIoU'])
    for k, why in result.get('skipped_K', {}).items():
        numbers[f'K={k}'] = f'not run: {why}'
    finish(args, f'kmeans_{args.level}', result, numbers, start)


if __name__ == '__main__':
    main()
