"""The BSDS500 annotation files (``groundTruth/<split>/<stem>.mat``), read
by the boundary benchmark and by the structured edge trainer."""
from __future__ import annotations

import os.path as osp


def read_bsds_ground_truth(path: str) -> tuple[list, list]:
    """The annotators' boundary and segment maps of one ``.mat`` file."""
    from scipy.io import loadmat
    if not osp.isfile(path):
        raise FileNotFoundError(f'BSDS ground truth missing: {path}')
    annotators = loadmat(path)['groundTruth'][0]
    return ([a['Boundaries'][0, 0] for a in annotators],
            [a['Segmentation'][0, 0] for a in annotators])
