"""The grouping primitive's cost per BSDS image on one core: structured
edges (single scale and SE-MS), the spectral signal, the UCM (default
arcs: SE's thinned strength; and with the OWT's arcs) and the tree encoding
(issue 18's target: edges + spectral + UCM + tree <= 1 s).

    python benchmarks/structured_edges.py MODEL [--images 10] [--repeats 3]
        [--out benchmarks/results/structured_edges.json]

MODEL: a forest file (tools/priors/train_structured_edges.py's
OUT_DIR/model.yml.gz); its folder's manifests give the training time.
Each stage runs on every image ``--repeats`` times (interleaved); the
median over repeats of the mean over images is reported.
"""
import os

os.environ.setdefault('OMP_NUM_THREADS', '1')  # one core, before numpy
os.environ.setdefault('NUMBA_NUM_THREADS', '1')

import argparse  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import os.path as osp  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from common import DATA, write_result  # noqa: E402

from mmssl_seg.priors.hierarchy import StructuredForestEdges  # noqa: E402
from mmssl_seg.priors.hierarchy.generate import (  # noqa: E402
    tree_from_hierarchy,
    ucm_tree,
)
from mmssl_seg.priors.hierarchy.spectral import (  # noqa: E402
    spectral_boundaries,
)


def training_record(model: str) -> dict:
    """Trees, patches, nodes and seconds from the trainer's manifests."""
    trees = {}
    for path in glob.glob(osp.join(osp.dirname(model),
                                   'manifest.shard-*.json')):
        trees.update(json.load(open(path)).get('entries', {}))
    if not trees:
        return {}
    seconds = [t['seconds'] for t in trees.values()]
    return {'trees': len(trees),
            'patches_per_tree': int(np.median([t['patches']
                                               for t in trees.values()])),
            'nodes_per_tree': int(np.median([t['nodes']
                                             for t in trees.values()])),
            'seconds_per_tree_median': float(np.median(seconds)),
            'tree_seconds_sum': float(np.sum(seconds))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('model')
    parser.add_argument('--images', type=int, default=10)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--out',
                        default='benchmarks/results/structured_edges.json')
    args = parser.parse_args()
    cv2.setNumThreads(1)
    paths = sorted(glob.glob(osp.join(DATA, 'bsds500', 'images', 'test',
                                      '*.jpg')))[:args.images]
    images = [cv2.imread(p) for p in paths]
    single = StructuredForestEdges(args.model)
    multi = StructuredForestEdges(args.model, multiscale=True)
    stages = {name: [] for name in ('edges', 'edges_multiscale', 'spectral',
                                    'ucm', 'tree', 'ucm_owt')}
    single(images[0])
    spectral_boundaries(single(images[0])[0])  # compile before timing
    for _ in range(args.repeats):
        times = {name: [] for name in stages}
        for image in images:
            t0 = time.perf_counter()
            edges, orientation = single(image)
            t1 = time.perf_counter()
            multi(image)
            t2 = time.perf_counter()
            spectral_boundaries(edges)
            t3 = time.perf_counter()
            _, tree, altitudes = ucm_tree(edges, orientation)
            t4 = time.perf_counter()
            tree_from_hierarchy(tree, altitudes, edges.shape)
            t5 = time.perf_counter()
            ucm_tree(edges, orientation, arcs='owt')
            t6 = time.perf_counter()
            for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2,
                                              t4 - t3, t5 - t4, t6 - t5)):
                times[name].append(seconds)
        for name in stages:
            stages[name].append(float(np.mean(times[name])))
    result = {name: round(float(np.median(v)), 4)
              for name, v in stages.items()}
    result['pipeline'] = round(result['edges'] + result['spectral'] +
                               result['ucm'] + result['tree'], 4)
    write_result({'seconds_per_image': result, 'images': len(images),
                  'repeats': args.repeats, 'cores': 1,
                  'training': training_record(args.model)}, args.out)


if __name__ == '__main__':
    main()
