"""One picture of a model's embeddings on a few images: image | first three
principal components as RGB | K-means clusters (coloured by matched class) |
ground truth.

    python tools/eval/visualize_embeddings.py CONFIG CHECKPOINT
        [--indices 0 1 2 3] [--clusters K] [--feature embedding]
        [--data DATA_CONFIG] [--out work_dirs/eval/embeddings.png]
"""
import argparse

from _eval_args import add_data_args, add_model_args


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    add_model_args(parser)
    add_data_args(parser)
    parser.add_argument('--split', choices=['train', 'val'], default='val')
    parser.add_argument('--indices', type=int, nargs='+', default=[0, 1, 2, 3])
    parser.add_argument('--clusters', type=int, default=None)
    parser.add_argument('--out', default='work_dirs/eval/embeddings.png')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.datasets.builder import build_eval_dataset
    from mmssl_seg.evaluation.cli import load_model_from_args
    from mmssl_seg.utils.errors import one_line_errors
    from mmssl_seg.visualization.embedding import draw_embeddings
    with one_line_errors():
        model = load_model_from_args(args)
        dataset = build_eval_dataset(args.data, args.split)
        result = draw_embeddings(model, dataset, args.indices, args.out,
                                 args.feature, args.in_index, args.clusters)
    print(f'wrote {result["path"]}')


if __name__ == '__main__':
    main()
