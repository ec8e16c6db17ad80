"""The BSDS500 hierarchy benchmark: seconds per image of the full protocol
(99 thresholds, boundaries and covering) on the reference gPb-OWT-UCM
hierarchies of BSDS val, three ways, with the scores each gives:

- ``per_threshold``: every threshold thinned, matched (pyEdgeEval's
  ``correspondPixels``) and cut on its own - what the tool did before;
- ``official``: ours - thresholds that give the same map or cut scored once,
  the same matcher;
- ``exact``: ours with the maximum-cardinality matching.

    python benchmarks/bsds.py [--images 10] [--thresholds 99]
        [--ucm-dir DIR] [--variants per_threshold official exact]
        [--out benchmarks/results/bsds.json]

``--ucm-dir``: other hierarchies of BSDS val images, e.g. ours from
``tools/priors/make_hierarchies.py DIR --images data/bsds500/images/val``
(``DIR/ucm2``): at most 40 leaves, so at most 39 distinct maps and cuts.

One process, one core (no workers), so seconds per image are per core.
``correspondPixels`` is randomised (sparse outlier edges), so the official
scores of two runs differ in the last digits; ``exact`` is deterministic.
Target: the full protocol >= 5x faster than per-threshold scoring with the
same ODS / OIS / AP / covering to 3 decimals.
"""
import argparse
import json
import os
import os.path as osp
import time

import numpy as np
from common import DATA, write_result

from mmssl_seg.evaluation.functional.bsds import (
    covering,
    score_ucm2,
    summarise_hierarchies,
)
from mmssl_seg.evaluation.protocols.bsds import read_bsds_ground_truth
from mmssl_seg.structures.ucm import read_ucm2

BSDS = osp.join(DATA, 'bsds500')


def per_threshold(ucm2: np.ndarray, boundaries: list, segments: list,
                  thresholds: np.ndarray) -> tuple[np.ndarray, list]:
    """The reference: pyEdgeEval's per-threshold loop and one cut per
    threshold."""
    from pyEdgeEval.common.binary_label.evaluate_boundaries import (
        evaluate_boundaries_threshold_multiple_gts,
    )
    from skimage.measure import label
    count_r, sum_r, count_p, sum_p = \
        evaluate_boundaries_threshold_multiple_gts(
            thresholds, ucm2[2::2, 2::2], [b.astype(bool) for b in boundaries],
            max_dist=0.0075, apply_thinning=True)
    covers = [float(np.mean([covering(
        label(ucm2 <= t, connectivity=1)[1::2, 1::2], s) for s in segments]))
        for t in thresholds]
    return np.stack([count_r, sum_r, count_p, sum_p], 1), covers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--images', type=int, default=10)
    parser.add_argument('--thresholds', type=int, default=99)
    parser.add_argument('--ucm-dir', default=osp.join(BSDS, 'ucm2_gpb/val'))
    parser.add_argument('--variants', nargs='+',
                        default=['per_threshold', 'official', 'exact'])
    parser.add_argument('--out', default='benchmarks/results/bsds.json')
    args = parser.parse_args()
    thresholds = np.linspace(0, 1, args.thresholds + 2)[1:-1]
    ucm_dir = args.ucm_dir
    stems = sorted(osp.splitext(f)[0] for f in os.listdir(ucm_dir))
    stems = stems[:args.images]
    inputs = []
    for stem in stems:
        path = next(osp.join(ucm_dir, f) for f in os.listdir(ucm_dir)
                    if osp.splitext(f)[0] == stem)
        inputs.append((read_ucm2(path), *read_bsds_ground_truth(
            osp.join(BSDS, 'groundTruth/val', stem + '.mat'))))
    variants = {
        'per_threshold': per_threshold,
        'official': lambda u, b, s, t: score_ucm2(u, b, s, t, 'official'),
        'exact': lambda u, b, s, t: score_ucm2(u, b, s, t, 'exact'),
    }
    result = {'images': len(inputs), 'thresholds': args.thresholds,
              'hierarchies': ucm_dir}
    if 'per_threshold' not in args.variants:
        parser.error('per_threshold is the baseline of the speed-ups')
    for name in args.variants:
        score = variants[name]
        start = time.perf_counter()
        scored = [score(u, b, s, thresholds) for u, b, s in inputs]
        seconds = time.perf_counter() - start
        summary = summarise_hierarchies([c for c, _ in scored],
                                        [v for _, v in scored], thresholds)
        result[name] = {'seconds_per_image': seconds / len(inputs),
                        **{k: round(summary[k], 4) for k in (
                            'ODS', 'OIS', 'AP', 'covering_ODS',
                            'covering_OIS')}}
        print(name, json.dumps(result[name]), flush=True)
    base = result['per_threshold']['seconds_per_image']
    for name in (n for n in args.variants if n != 'per_threshold'):
        result[name]['speedup'] = base / result[name]['seconds_per_image']
        result[name]['max_score_difference'] = max(
            abs(result[name][k] - result['per_threshold'][k])
            for k in ('ODS', 'OIS', 'AP', 'covering_ODS', 'covering_OIS'))
    write_result(result, args.out)


if __name__ == '__main__':
    main()
