"""How much signal the region trees give hierarchical grouping's pair
sampling (eqs. 2-3), measured with the sampler's own
:func:`~mmssl_seg.models.utils.region_probabilities`.

For every tree and every region taken as the anchor region (anchors are
drawn uniformly among the present regions):

* ``pos_in_anchor_region``: the probability mass of eq. 2 on the anchor's
  own region (the paper casts its weight to 1 "to further concentrate
  positive sampling within the anchor regions");
* ``neg_in_anchor_region``: eq. 3's mass there (0 by construction);
* ``pos_neg_same_region``: the chance that one positive and one negative
  fall in the same region (a pair with no signal).

Each is averaged over the anchors of an image, then over images.
"""
from __future__ import annotations

import glob
import os.path as osp
from typing import Sequence

import numpy as np
import torch

from mmssl_seg.models.utils.tree_pairs import region_probabilities
from mmssl_seg.structures import RegionTree


def tree_files(tree_dir: str, limit: int | None = None) -> list[str]:
    """The ``.npz`` trees of a ``make_hierarchies.py`` folder (its
    ``trees/``) or of a folder of trees, sorted; an empty result is an
    error naming the folder."""
    folder = osp.join(tree_dir, 'trees')
    folder = folder if osp.isdir(folder) else tree_dir
    files = sorted(glob.glob(osp.join(folder, '*.npz')))[:limit]
    if not files:
        raise FileNotFoundError(f'no region trees (*.npz) in {folder}')
    return files


def pair_stats(trees: Sequence[RegionTree], sigma: float = 0.8,
               d_t: str = 'level') -> dict:
    """The statistics above over ``trees`` (see the module docstring)."""
    per_image = []
    for tree in trees:
        k = tree.num_leaves
        if k < 2:
            continue  # no negative region: the sampler skips such anchors
        dist = torch.from_numpy(tree.distances(d_t))[None]
        anchors = torch.arange(k)[None]
        present = torch.ones(1, k, dtype=torch.bool)
        pos, neg = region_probabilities(dist, anchors, present, sigma)
        pos, neg = pos[0].double(), neg[0].double()
        per_image.append((pos.diagonal().mean().item(),
                          neg.diagonal().mean().item(),
                          (pos * neg).sum(1).mean().item()))
    if not per_image:
        raise ValueError('no tree has two regions or more')
    means = np.mean(per_image, axis=0)
    return {'trees': len(per_image), 'sigma': sigma, 'd_t': d_t,
            'pos_in_anchor_region': float(means[0]),
            'neg_in_anchor_region': float(means[1]),
            'pos_neg_same_region': float(means[2])}
