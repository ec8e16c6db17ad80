"""Build the texture-mosaic segmentation set (no download: the photographs
bundled with scikit-image), as the quick-start and the benchmark's mosaic
regime use it.

    python tools/make_texture_mosaics.py OUT_DIR [--num-train 240]
        [--num-val 60] [--size 128] [--seed 0]

Resumable (existing files are kept); a rerun with other parameters into the
same folder is refused. ``train.txt`` and ``val.txt`` are written last.
"""
import argparse


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('out_dir')
    parser.add_argument('--num-train', type=int, default=240)
    parser.add_argument('--num-val', type=int, default=60)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.datasets.texture_mosaic import build_texture_mosaics
    try:
        build_texture_mosaics(args.out_dir, num_train=args.num_train,
                              num_val=args.num_val, size=args.size,
                              seed=args.seed)
    except ValueError as error:
        raise SystemExit(f'error: {error}') from None
    print(f'wrote {args.out_dir}')


if __name__ == '__main__':
    main()
