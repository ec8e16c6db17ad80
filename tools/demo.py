"""The quick-start: build data that needs no download, pretrain, extract the
backbone, fine-tune stock PSPNet from it and from random init, evaluate, and
draw the predictions.

    python tools/demo.py [--work-dir work_dirs/demo] [--seed 0]

Writes WORK_DIR/results.json, WORK_DIR/predictions.png and the checkpoints.
"""
import argparse
import json

from mmssl_seg.apis.demo import run_demo


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    results = run_demo(args.work_dir, args.seed)
    print(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
