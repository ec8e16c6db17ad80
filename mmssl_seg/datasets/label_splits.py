"""Seeded label-fraction splits of a training id list.

For each seed one permutation of the ids is drawn and every fraction takes a
prefix of it, so the splits of one seed are nested (the 1 % images are among
the 5 % images, ...): differences between fractions are then not differences
between random draws. Each fraction keeps ``max(1, round(f * N))`` ids, in the
order of the original list.
"""
from __future__ import annotations

import os.path as osp
from typing import Sequence

import numpy as np

from mmssl_seg.utils.io import atomic_path, write_json

DEFAULT_FRACTIONS = (1, 2, 5, 10, 12.5, 20, 100)


def split_name(stem: str, fraction: float, seed: int) -> str:
    """``train_12.5pct_seed0`` style name of one split file (no suffix)."""
    return f'{stem}_{fraction:g}pct_seed{seed}'


def make_label_splits(ids: Sequence[str],
                      fractions: Sequence[float] = DEFAULT_FRACTIONS,
                      seeds: Sequence[int] = (0, 1, 2)
                      ) -> dict[tuple[float, int], list[str]]:
    """Return ``{(fraction, seed): ids}`` for percentages in (0, 100]."""
    ids = list(ids)
    if not ids:
        raise ValueError('the id list is empty')
    if len(set(ids)) != len(ids):
        raise ValueError('the id list has duplicates')
    splits = {}
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(len(ids))
        for fraction in fractions:
            if not 0 < fraction <= 100:
                raise ValueError(f'fraction {fraction} is not in (0, 100]')
            count = max(1, int(round(fraction / 100 * len(ids))))
            chosen = np.sort(order[:count])
            splits[(fraction, seed)] = [ids[i] for i in chosen]
    return splits


def write_label_splits(ann_file: str,
                       out_dir: str,
                       fractions: Sequence[float] = DEFAULT_FRACTIONS,
                       seeds: Sequence[int] = (0, 1, 2)) -> dict:
    """Write one id file per (fraction, seed) and ``manifest.json``.

    Returns:
        The manifest: parameters and, per split, its file and size.
    """
    with open(ann_file) as f:
        ids = [line.strip() for line in f if line.strip()]
    stem = osp.splitext(osp.basename(ann_file))[0]
    splits = make_label_splits(ids, fractions, seeds)
    files = {}
    for (fraction, seed), chosen in splits.items():
        path = osp.join(out_dir, split_name(stem, fraction, seed) + '.txt')
        with atomic_path(path) as tmp:
            with open(tmp, 'w') as f:
                f.write('\n'.join(chosen) + '\n')
        files[split_name(stem, fraction, seed)] = dict(
            file=osp.abspath(path), fraction=fraction, seed=seed,
            num_ids=len(chosen))
    manifest = dict(ann_file=osp.abspath(ann_file), num_ids=len(ids),
                    fractions=list(fractions), seeds=list(seeds),
                    nested=True, splits=files)
    write_json(osp.join(out_dir, 'manifest.json'), manifest)
    return manifest
