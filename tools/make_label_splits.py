"""Write seeded label-fraction splits of a training id list.

    python tools/make_label_splits.py ANN_FILE OUT_DIR \
        [--fractions 1 2 5 10 12.5 20 100] [--seeds 0 1 2]

Fine-tune on one split with
``--cfg-options train_dataloader.dataset.ann_file=OUT_DIR/<split>.txt``
(an absolute path, or relative to the dataset's data_root).
"""
import argparse

#: mmssl_seg.datasets.label_splits.DEFAULT_FRACTIONS (tests keep them equal)
DEFAULT_FRACTIONS = (1, 2, 5, 10, 12.5, 20, 100)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('ann_file', help='id list, e.g. .../train.txt')
    parser.add_argument('out_dir', help='folder for the split files')
    parser.add_argument('--fractions', nargs='+', type=float,
                        default=list(DEFAULT_FRACTIONS),
                        help='label percentages')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2],
                        help='one random split per seed and fraction')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.datasets.label_splits import write_label_splits
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        manifest = write_label_splits(args.ann_file, args.out_dir,
                                      args.fractions, args.seeds)
    for name, split in manifest['splits'].items():
        print(f'{name:<32}{split["num_ids"]:>7} ids  {split["file"]}')


if __name__ == '__main__':
    main()
