"""Clustering protocols (MaskContrast sec. 4.4 and supplement E).

* Pixel level: K-means on the L2-normalised pixel embeddings of the val
  images; clusters are mapped to classes one-to-one (Hungarian) when K equals
  the number of classes, many-to-one (majority) when overclustering.
* Object level: K-means on the mean embedding of each image's salient object;
  all pixels of the object take its cluster, the rest of the image is the
  background cluster; then the same mappings.

Every K is run with several seeds (5 in the paper); mean and std are reported,
with the PmIoU of the same cluster maps.
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from mmssl_seg.evaluation.features import iterate_features, upsample_labels
from mmssl_seg.evaluation.functional import (
    confusion_matrix,
    hungarian_mapping,
    majority_mapping,
    mapped_miou,
    pmiou_from_confusion,
)
from mmssl_seg.evaluation.report import mean_std
from mmssl_seg.utils.kmeans import assign, fit_kmeans


def _summarise(confusions: dict, num_classes: int, num_ids: dict) -> dict:
    """mIoU (Hungarian if the ids match the classes one to one, else
    majority) and PmIoU, as mean/std over seeds, per K."""
    out = {}
    for k in sorted({k for k, _ in confusions}):
        runs = [confusions[key] for key in sorted(confusions) if key[0] == k]
        one_to_one = num_ids[k] == num_classes
        mapping = hungarian_mapping if one_to_one else majority_mapping
        out[str(k)] = {
            'mapping': 'hungarian' if one_to_one else 'majority',
            'mIoU': mean_std(mapped_miou(c, mapping(c))[0] for c in runs),
            'PmIoU': mean_std(pmiou_from_confusion(c) for c in runs),
        }
    return out


def pixel_kmeans(model, dataset, num_classes: int,
                 ks: Sequence[int] = (21, ), seeds: Sequence[int] = range(5),
                 kind: str = 'backbone', in_index: int = -1,
                 fit_pixels: int = 200_000, ignore_index: int = 255) -> dict:
    """Pixel-level K-means of ``dataset``'s features, scored against its
    ground truth.

    Centroids are fitted on a uniform sample of at most ``fit_pixels`` pixel
    embeddings; then every pixel is assigned, and the cluster map is resized
    (nearest) to the label map.
    """
    rng = np.random.default_rng(0)
    quota = max(1, -(-fit_pixels // len(dataset)))
    sample = []
    for item in iterate_features(model, dataset, kind, in_index,
                                 description='K-means: sample pixels'):
        points = item.feature.flatten(1).T
        take = rng.choice(len(points), min(quota, len(points)), replace=False)
        sample.append(points[take].numpy())
    sample = np.concatenate(sample)
    centroids = {(k, s): fit_kmeans(sample, k, seed=s) for k in ks
                 for s in seeds if k <= len(sample)}
    confusions = {key: 0 for key in centroids}
    for item in iterate_features(model, dataset, kind, in_index,
                                 description='K-means: assign pixels'):
        points = item.feature.flatten(1).T
        h, w = item.feature.shape[1:]
        for (k, s), c in centroids.items():
            ids = upsample_labels(assign(points, c).view(h, w), item.gt.shape)
            confusions[(k, s)] = confusions[(k, s)] + confusion_matrix(
                ids, item.gt, k, num_classes, ignore_index)
    return {'level': 'pixel', 'kind': kind, 'seeds': list(seeds),
            'fit_pixels': int(len(sample)),
            'K': _summarise(confusions, num_classes, {k: k for k in ks})}


class SaliencyMasks:
    """Salient-object masks stored as images (``<stem>.png``, 0/255, 0/1 or
    soft), one per image, at the image's size.

    ``root`` is a folder of masks, or a ``make_saliency.py`` output folder:
    then masks come from its ``masks/`` and the images its manifest marks as
    dropped have no salient object (an empty mask). Any other missing mask
    is an error that names the file.

    Args:
        root: Folder of the masks, or of a ``make_saliency.py`` run.
        threshold: Foreground where ``mask / max_value >= threshold``.
    """

    def __init__(self, root: str, threshold: float = 0.5) -> None:
        self.root = root
        self.threshold = threshold
        self.dropped: set[str] = set()
        manifest = osp.join(root, 'manifest.json')
        if osp.isfile(manifest):
            with open(manifest) as f:
                entries = json.load(f)['entries']
            self.dropped = {s for s, e in entries.items() if not e['kept']}
            self.root = osp.join(root, 'masks')

    def for_item(self, item) -> np.ndarray:
        """The mask of a :class:`FeatureItem` at its ground truth's size."""
        return self(item.img_path, item.gt.shape)

    def __call__(self, img_path: str, shape: tuple[int, int]) -> np.ndarray:
        stem = osp.splitext(osp.basename(img_path))[0]
        if stem in self.dropped:
            return np.zeros(shape, dtype=bool)
        path = osp.join(self.root, stem + '.png')
        mask = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if mask is None:
            raise FileNotFoundError(f'saliency mask missing: {path} (for '
                                    f'{img_path})')
        if mask.shape[:2] != tuple(shape):
            raise ValueError(f'saliency mask {path} is {mask.shape[:2]}, its '
                             f'image {img_path} is {tuple(shape)}')
        if mask.ndim == 3:
            mask = mask[..., 0]
        scale = 255.0 if mask.max() > 1 else 1.0
        return mask.astype(np.float32) / scale >= self.threshold


class HeadSaliency:
    """Salient objects from the evaluated model's own saliency head (the
    MaskContrast paper separates objects from the background this way,
    supplement E): its saliency probability, upsampled bilinearly to the
    image, ``>= threshold``.

    Args:
        model: A model whose ``dense_features(inputs, 'saliency')`` gives the
            probability (MaskContrast).
        threshold: Foreground where the probability is at least this.
    """

    def __init__(self, model, threshold: float = 0.5) -> None:
        from mmssl_seg.models.builder import dense_features
        try:
            dense_features(model, torch.zeros(1, 3, 32, 32), 'saliency')
        except (ValueError, RuntimeError) as error:
            raise ValueError(
                f'{type(model).__name__} has no saliency head ({error}); '
                'pass a folder of masks instead') from None
        self.model = model
        self.threshold = threshold

    def for_item(self, item) -> np.ndarray:
        from mmssl_seg.models.builder import dense_features
        prob = dense_features(self.model, item.inputs, 'saliency')[:, :1]
        prob = F.interpolate(prob.float(), size=item.gt.shape,
                             mode='bilinear', align_corners=False)[0, 0]
        return (prob >= self.threshold).numpy()


def saliency_source(model, value: str | None
                    ) -> SaliencyMasks | HeadSaliency | None:
    """``'head'``: the model's saliency head; a folder: mask files; None:
    no saliency."""
    if value is None:
        return None
    return HeadSaliency(model) if value == 'head' else SaliencyMasks(value)


def object_kmeans(model, dataset, num_classes: int,
                  saliency: SaliencyMasks | HeadSaliency,
                  ks: Sequence[int] | None = None,
                  seeds: Sequence[int] = range(5), kind: str = 'backbone',
                  in_index: int = -1, ignore_index: int = 255) -> dict:
    """Object-level K-means: one mean embedding per image's salient object.

    Args:
        ks: Numbers of object clusters; default ``num_classes - 1`` (the
            background is its own cluster, so K + 1 ids meet the classes).
        saliency: Where the salient-object masks come from: the model's
            saliency head (:class:`HeadSaliency`, the paper) or mask files
            (:class:`SaliencyMasks`).
    """
    ks = [num_classes - 1] if ks is None else list(ks)
    objects, masks, gts = [], [], []
    for item in iterate_features(model, dataset, kind, in_index,
                                 description='object K-means: objects'):
        mask = saliency.for_item(item)
        small = F.interpolate(
            torch.from_numpy(mask)[None, None].float(),
            size=item.feature.shape[1:], mode='area')[0, 0] >= 0.5
        if small.any():
            mean = item.feature[:, small].mean(dim=1)
            objects.append(F.normalize(mean, dim=0).numpy())
        else:
            objects.append(None)  # no salient object: all background
        masks.append(mask)
        gts.append(item.gt)
    points = [o for o in objects if o is not None]
    points = np.stack(points) if points else np.zeros((0, 1), np.float32)
    confusions, skipped = {}, {}
    for k in ks:
        if k > len(points):  # named in the result, not dropped silently
            skipped[k] = f'only {len(points)} salient objects'
            continue
        for s in seeds:
            ids = assign(torch.from_numpy(points),
                         fit_kmeans(points, k, seed=s)).numpy()
            it = iter(ids)
            total = 0
            for obj, mask, gt in zip(objects, masks, gts):
                pred = np.full(gt.shape, k, dtype=np.int64)  # background id
                if obj is not None:
                    pred[mask] = next(it)
                total = total + confusion_matrix(pred, gt, k + 1,
                                                 num_classes, ignore_index)
            confusions[(k, s)] = total
    return {'level': 'object', 'kind': kind, 'seeds': list(seeds),
            'objects': int(len(points)), 'images': len(objects),
            'K': _summarise(confusions, num_classes,
                            {k: k + 1 for k in ks if k not in skipped}),
            'skipped_K': skipped}
