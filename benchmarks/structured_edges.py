"""The grouping primitive's cost per BSDS image on one core: structured
edges (single scale and SE-MS, by OpenCV; sharpened, by our compiled
inference on the forest.npz beside MODEL), the spectral signal (at 96 px,
the default, and 128), the UCM (default arcs: SE's thinned strength; and
the OWT's) and the tree encoding (issue 18's target: edges + spectral + UCM
+ tree <= 1 s; the default detector is SE-MS + 0.1 sPb).

    python benchmarks/structured_edges.py [MODEL] [--images 10] [--repeats 3]
        [--out benchmarks/results/structured_edges.json]

MODEL: 'packaged' (default: the forest shipped with mmssl_seg) or a forest
file that tools/priors/train_structured_edges.py wrote, whose folder's
manifests give the training time.
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

from mmssl_seg.priors.hierarchy import (  # noqa: E402
    DEFAULT_FOREST,
    DEFAULT_SPECTRAL,
    DEFAULT_SPECTRAL_SIZE,
    StructuredForestEdges,
)
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
    parser.add_argument('model', nargs='?', default=DEFAULT_FOREST)
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
    sharp = StructuredForestEdges(args.model, sharpen=2)
    sharp_multi = StructuredForestEdges(args.model, True, sharpen=2)
    stages = {name: [] for name in ('edges', 'edges_multiscale', 'spectral',
                                    'spectral_128', 'ucm', 'ucm_owt',
                                    'tree', 'edges_sharpened',
                                    'edges_multiscale_sharpened')}
    single(images[0])
    sharp(images[0])  # compile and tabulate the rings before timing
    spectral_boundaries(single(images[0])[0])  # compile before timing
    for _ in range(args.repeats):
        times = {name: [] for name in stages}
        for image in images:
            t = [time.perf_counter()]
            single(image)
            t.append(time.perf_counter())
            edges, orientation = multi(image)  # the default: SE-MS
            t.append(time.perf_counter())
            spb = spectral_boundaries(edges, max_side=DEFAULT_SPECTRAL_SIZE)
            t.append(time.perf_counter())
            spectral_boundaries(edges, max_side=128)
            t.append(time.perf_counter())
            edges = (1 - DEFAULT_SPECTRAL) * edges + DEFAULT_SPECTRAL * spb
            _, tree, altitudes = ucm_tree(edges, orientation)  # nms arcs
            t.append(time.perf_counter())
            ucm_tree(edges, orientation, arcs='owt')
            t.append(time.perf_counter())
            tree_from_hierarchy(tree, altitudes, edges.shape)
            t.append(time.perf_counter())
            sharp(image)
            t.append(time.perf_counter())
            sharp_multi(image)
            t.append(time.perf_counter())
            for name, a, b in zip(stages, t, t[1:]):
                times[name].append(b - a)
        for name in stages:
            stages[name].append(float(np.mean(times[name])))
    result = {name: round(float(np.median(v)), 4)
              for name, v in stages.items()}
    # the default (SE-MS + sPb at 96 px + nms arcs) and the one-scale one
    rest = result['spectral'] + result['ucm'] + result['tree']
    result['pipeline'] = round(result['edges_multiscale'] + rest, 4)
    result['pipeline_single_scale'] = round(result['edges'] + rest, 4)
    for name in ('edges_sharpened', 'edges_multiscale_sharpened'):
        result[f'pipeline_{name[6:]}'] = round(result[name] + rest, 4)
    write_result({'seconds_per_image': result, 'images': len(images),
                  'repeats': args.repeats, 'cores': 1,
                  'training': training_record(args.model)}, args.out)


if __name__ == '__main__':
    main()
