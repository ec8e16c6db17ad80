"""Video object mask propagation (hierarchical-grouping paper sec. 5.3).

The first frame's mask is given. For each later frame t every pixel i takes

    y_t(i) = sum_{k=1..K} sum_{j in N(i)} sim(F_t(i), F_{t-k}(j)) y_{t-k}(j)

normalised over its neighbours, where N(i) are the 10 nearest pixels of the
K = 2 previous frames in feature space augmented with the pixel coordinates
(scaled by ``spatial_weight``), sim is the cosine similarity of the features
(negative values count as 0) and y are soft one-hot labels (propagated soft).
Masks are scored with DAVIS' region similarity J and boundary accuracy F on
every frame but the first and the last, per object, as the official DAVIS
2017 evaluation (:func:`propagate_davis`).
"""
from __future__ import annotations

import glob
import os.path as osp
from typing import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import track

from mmssl_seg.evaluation.functional import (
    boundary_f_measure,
    region_similarity,
)
from mmssl_seg.models.builder import dense_features, preprocess
from mmssl_seg.utils.kmeans import nearest_neighbours


def _frame_features(model, frame: np.ndarray, scale: float, kind: str,
                    in_index: int) -> torch.Tensor:
    """L2-normalised ``C x h x w`` features of a BGR frame."""
    if scale != 1:
        frame = cv2.resize(frame, None, fx=scale, fy=scale,
                           interpolation=cv2.INTER_LINEAR)
    image = torch.from_numpy(np.ascontiguousarray(frame.transpose(2, 0, 1)))
    feature = dense_features(model, preprocess(model, [image]), kind,
                             in_index)[0].float()
    return F.normalize(feature, dim=0)


def _augmented(feature: torch.Tensor, spatial_weight: float) -> np.ndarray:
    """``h*w x (C + 2)`` features with (y, x) in [0, 1] appended."""
    _, h, w = feature.shape
    ys, xs = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w),
                            indexing='ij')
    coords = torch.stack([ys, xs]) * spatial_weight
    return torch.cat([feature, coords]).flatten(1).T.numpy()


def read_mask(path: str) -> np.ndarray:
    """Object ids of a DAVIS annotation, as the official evaluation reads
    them (``davis2017/davis.py``): a palette PNG (DAVIS 2017) gives its
    palette indices, 0 background, 1..n the objects, 255 (void) counted as
    background; a binary 0/255 greyscale PNG (DAVIS 2016) gives 0/1. Ids
    are never re-ranked, so an object keeps its id in frames where another
    is absent."""
    from PIL import Image
    try:
        with Image.open(path) as image:
            mode, mask = image.mode, np.array(image)
    except (FileNotFoundError, OSError):
        raise FileNotFoundError(f'mask missing or unreadable: {path}'
                                ) from None
    if mask.ndim != 2:
        raise ValueError(f'{path} is a {image.mode} image: DAVIS masks are '
                         'palette (P) or binary greyscale PNGs')
    mask = mask.astype(np.int64)
    if mode != 'P' and set(np.unique(mask).tolist()) <= {0, 255}:
        return mask // 255  # DAVIS 2016: one object
    mask[mask == 255] = 0  # void
    return mask


def object_scores(preds: Sequence[np.ndarray], gts: Sequence[np.ndarray],
                  num_objects: int) -> dict[int, dict[str, float]]:
    """J and F of every object ``1..num_objects`` averaged over the given
    frames (the official ``db_statistics`` mean), the object's mask being
    ``ids == k`` in each frame (empty where it is absent: J and F are 1
    when the prediction is empty too)."""
    scores = {}
    for obj in range(1, num_objects + 1):
        j = [region_similarity(p == obj, g == obj) for p, g in zip(preds,
                                                                  gts)]
        f = [boundary_f_measure(p == obj, g == obj) for p, g in zip(preds,
                                                                   gts)]
        scores[obj] = {'J': float(np.nanmean(j)), 'F': float(np.nanmean(f))}
    return scores


def propagate_sequence(model, frames: Sequence[str], first_mask: np.ndarray,
                       scale: float = 0.5, k_prev: int = 2,
                       neighbours: int = 10, spatial_weight: float = 1.0,
                       kind: str = 'backbone', in_index: int = -1
                       ) -> list[np.ndarray]:
    """Predicted id maps (frame size) for ``frames[1:]``."""
    num_ids = int(first_mask.max()) + 1
    feats, augs, labels = [], [], []
    outputs = []
    for t, path in enumerate(frames):
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
        feature = _frame_features(model, frame, scale, kind, in_index)
        _, h, w = feature.shape
        feats.append(feature.flatten(1).T)
        augs.append(_augmented(feature, spatial_weight))
        if t == 0:
            onehot = F.one_hot(torch.from_numpy(first_mask), num_ids)
            soft = F.interpolate(onehot.permute(2, 0, 1)[None].float(),
                                 size=(h, w), mode='area')[0]
            labels.append(soft.flatten(1).T)
            continue
        refs = list(range(max(0, t - k_prev), t))
        bank = np.concatenate([augs[r] for r in refs])
        bank_feats = torch.cat([feats[r] for r in refs])
        bank_labels = torch.cat([labels[r] for r in refs])
        _, found = nearest_neighbours(bank, augs[t], neighbours, metric='l2')
        found = torch.from_numpy(found)
        sims = (feats[t][:, None, :] * bank_feats[found]).sum(-1).clamp(min=0)
        weights = sims / sims.sum(1, keepdim=True).clamp(min=1e-12)
        weights[sims.sum(1) == 0] = 1.0 / found.shape[1]
        soft = (weights[..., None] * bank_labels[found]).sum(1)
        labels.append(soft)
        full = F.interpolate(soft.T.reshape(1, num_ids, h, w),
                             size=frame.shape[:2], mode='bilinear',
                             align_corners=False)[0]
        outputs.append(full.argmax(0).numpy())
    return outputs


def propagate_davis(model, root: str, sequences: Sequence[str] | None = None,
                    max_frames: int | None = None, **kwargs) -> dict:
    """Propagate and score every sequence under ``root`` (DAVIS layout:
    ``JPEGImages/480p/<seq>/*.jpg``, ``Annotations/480p/<seq>/*.png``), as
    the official semi-supervised evaluation scores: the objects are the ids
    ``1..max`` of the first frame's annotation, every frame but the first
    and the last is scored, each object's J and F are its mean over those
    frames, and J and F are the mean over all objects of all sequences
    (DAVIS 2016 has one object per sequence, so per-sequence).

    Keyword arguments go to :func:`propagate_sequence`.
    """
    image_root = osp.join(root, 'JPEGImages', '480p')
    if sequences is None:
        sequences = sorted(d for d in glob.glob(osp.join(image_root, '*'))
                           if osp.isdir(d))
        sequences = [osp.basename(d) for d in sequences]
    if not sequences:
        raise FileNotFoundError(f'no sequence under {image_root}')
    per_sequence = {}
    for seq in track(sequences, description='DAVIS propagation'):
        frames = sorted(glob.glob(osp.join(image_root, seq, '*.jpg')))
        frames = frames[:max_frames] if max_frames else frames
        if len(frames) < 3:
            raise ValueError(f'{seq}: needs at least 3 frames')
        masks = [read_mask(osp.join(root, 'Annotations', '480p', seq,
                                    osp.basename(f)[:-4] + '.png'))
                 for f in frames]
        preds = propagate_sequence(model, frames, masks[0], **kwargs)
        objects = object_scores(preds[:-1], masks[1:-1],  # not first, last
                                int(masks[0].max()))
        per_sequence[seq] = {
            'objects': objects, 'frames': len(frames),
            'J': float(np.mean([o['J'] for o in objects.values()])),
            'F': float(np.mean([o['F'] for o in objects.values()]))}
    every = [o for s in per_sequence.values() for o in s['objects'].values()]
    j = float(np.mean([o['J'] for o in every]))
    f = float(np.mean([o['F'] for o in every]))
    return {'J': j * 100, 'F': f * 100, 'J&F': (j + f) * 50,
            'objects': len(every), 'sequences': per_sequence,
            'settings': dict(kwargs)}
