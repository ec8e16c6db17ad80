"""Hierarchical grouping: seconds per image of the prior's stages (edges,
oriented watershed + UCM, cutting and encoding the tree, loading it back
with its distances) on real BSDS500 images, and the pair sampler's
throughput at the paper's batch (70 images x 7 anchors x 10 + 5 pairs on a
56 x 56 embedding grid, cns 5).

    python benchmarks/hier_grouping.py [--images 20] [--batches 50]
        [--out benchmarks/results/hier_grouping.json]

Target: the prior costs well under a second per image on one CPU core (it
runs once per image, sharded), and sampling takes a few milliseconds per
batch (negligible next to a ResNet-50 step).
"""
import argparse
import glob
import os
import os.path as osp
import tempfile
import time

import cv2
import numpy as np
import torch
from common import DATA, write_result

from mmssl_seg.models.utils import sample_tree_pairs
from mmssl_seg.priors.hierarchy import (
    ColourGradientEdges,
    tree_from_hierarchy,
    ucm_tree,
)
from mmssl_seg.structures import RegionTree

BSDS = osp.join(DATA, 'bsds500/images/val')


def prior_seconds(paths: list[str]) -> tuple[dict, list[RegionTree]]:
    detector = ColourGradientEdges()
    times = {'edges': [], 'owt_ucm': [], 'tree_encoding': [], 'load': []}
    trees = []
    folder = tempfile.mkdtemp()
    for i, path in enumerate(paths):
        image = cv2.imread(path)
        start = time.perf_counter()
        edges, orientation = detector(image)
        times['edges'].append(time.perf_counter() - start)
        start = time.perf_counter()
        _, tree, altitudes = ucm_tree(edges, orientation)
        times['owt_ucm'].append(time.perf_counter() - start)
        start = time.perf_counter()
        out = osp.join(folder, f'{i}.npz')
        tree_from_hierarchy(tree, altitudes, edges.shape, 40).save(out)
        times['tree_encoding'].append(time.perf_counter() - start)
        start = time.perf_counter()
        loaded = RegionTree.load(out)
        loaded.distances()
        times['load'].append(time.perf_counter() - start)
        trees.append(loaded)
    result = {k: float(np.mean(v)) for k, v in times.items()}
    result['total'] = sum(result.values())
    result['bytes_per_tree'] = float(np.mean(
        [os.path.getsize(osp.join(folder, f)) for f in os.listdir(folder)]))
    return result, trees


def sampling_throughput(trees: list[RegionTree], batches: int) -> dict:
    batch = 70
    grid = 56
    regions, distances = [], torch.zeros(batch, 40, 40)
    for i in range(batch):
        tree = trees[i % len(trees)]
        leaves = cv2.resize(tree.leaves, (grid, grid),
                            interpolation=cv2.INTER_NEAREST)
        regions.append(torch.from_numpy(leaves.astype(np.int64)))
        d = torch.from_numpy(tree.distances())
        distances[i, :len(d), :len(d)] = d
    regions = torch.stack(regions)
    gen = torch.Generator().manual_seed(0)
    sample_tree_pairs(regions, distances, cns=5, generator=gen)  # warm-up
    start = time.perf_counter()
    for _ in range(batches):
        pairs = sample_tree_pairs(regions, distances, cns=5, generator=gen)
    seconds = (time.perf_counter() - start) / batches
    per_batch = int(pairs.valid.sum()) * (10 + 5 + 5)
    return {'batch': batch, 'grid': grid, 'ms_per_batch': seconds * 1e3,
            'pairs_per_second': per_batch / seconds,
            'valid_anchors': int(pairs.valid.sum())}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--images', type=int, default=20)
    parser.add_argument('--batches', type=int, default=50)
    parser.add_argument('--out',
                        default='benchmarks/results/hier_grouping.json')
    args = parser.parse_args()
    torch.set_num_threads(1)
    paths = sorted(glob.glob(osp.join(BSDS, '*.jpg')))[:args.images]
    prior, trees = prior_seconds(paths)
    result = {'images': len(paths), 'image_size': '481x321',
              'prior_seconds_per_image': prior,
              'sampling': sampling_throughput(trees, args.batches)}
    write_result(result, args.out)


if __name__ == '__main__':
    main()
