"""Convert the Weizmann Horse data set (``rgb/``, ``figure_ground/`` JPEG
masks) to MMSeg's layout with the fixed 180 / 48 split listed in
``mmssl_seg/datasets/splits``: class-index PNGs (0 background, 1 horse; the
mask resized to its photograph with nearest neighbour, then >= 128).

    python tools/dataset_converters/weizmann_horse.py SOURCE OUT_DIR
        [--long-side N]

``--long-side`` resizes each photograph so that its longer side has N
pixels (the labels with nearest neighbour); without it the photographs are
copied byte for byte. Resumable (existing files are kept); a rerun with
other parameters into the same folder is refused. ``train.txt`` and
``val.txt`` are written last.
"""
import argparse


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('source', help='e.g. data/weizmann_horse')
    parser.add_argument('out_dir')
    parser.add_argument('--long-side', type=int, default=None)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.datasets.weizmann_horse import build_weizmann_horses
    from mmssl_seg.utils.errors import UserError
    try:
        build_weizmann_horses(args.source, args.out_dir,
                              long_side=args.long_side)
    except UserError as error:
        raise SystemExit(f'error: {error}') from None
    print(f'wrote {args.out_dir}')


if __name__ == '__main__':
    main()
