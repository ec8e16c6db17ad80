"""The quick-start: build data that needs no download, make region trees,
pretrain with hierarchical grouping (no labels) and a supervised stand-in,
extract the backbones, fine-tune stock PSPNet on 10 % of the labels from
each and from random init (two seeds), evaluate, and draw the predictions.

    python tools/demo.py [--work-dir work_dirs/demo] [--seeds 0 1]

Writes WORK_DIR/results.json, WORK_DIR/predictions.png and the checkpoints.
"""
import argparse
import json


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.apis.demo import run_demo
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        results = run_demo(args.work_dir, args.seeds)
    print(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
