"""Clustering protocols (MaskContrast sec. 4.4 and supplement E).

* Pixel level: K-means on the L2-normalised pixel embeddings of the val
  images; clusters are mapped to classes one-to-one (Hungarian) when K equals
  the number of classes, many-to-one (majority) when overclustering.
* Object level: K-means on one embedding per image's salient object (the
  paper's mean of normalised pixel embeddings, or the authors' code's
  saliency-weighted sum with PCA whitening, :data:`OBJECT_RULES`); all
  pixels of the object take its cluster, the rest of the image is the
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

    def object_weights(self, item) -> tuple[np.ndarray, None]:
        """The object mask (at the ground truth's size); its pixels weigh
        the same."""
        return self.for_item(item), None

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
    supplement E): its logit upsampled bilinearly to the network's input,
    foreground where it exceeds ``threshold`` (0.5, the authors' code:
    ``sal > 0.5`` on the logit, a probability above 0.62; the paper gives
    no threshold), then nearest-resized to the image.

    Args:
        model: A model whose ``dense_features(inputs, 'saliency_logit')``
            gives the logit (MaskContrast).
        threshold: Foreground where the logit exceeds it.
    """

    def __init__(self, model, threshold: float = 0.5) -> None:
        from mmssl_seg.models.builder import dense_features
        try:
            dense_features(model, torch.zeros(1, 3, 32, 32), 'saliency_logit')
        except (ValueError, RuntimeError) as error:
            raise ValueError(
                f'{type(model).__name__} has no saliency head ({error}); '
                'pass a folder of masks instead') from None
        self.model = model
        self.threshold = threshold

    def logits(self, item) -> torch.Tensor:
        """The saliency logit at the input's resolution (``H x W``)."""
        from mmssl_seg.models.builder import dense_features
        logit = dense_features(self.model, item.inputs,
                               'saliency_logit')[:, :1]
        return F.interpolate(logit.float(), size=item.inputs.shape[2:],
                             mode='bilinear', align_corners=False)[0, 0]

    def for_item(self, item) -> np.ndarray:
        """The object mask at the ground truth's size."""
        mask = (self.logits(item) > self.threshold).numpy()
        return upsample_labels(mask, item.gt.shape).astype(bool)

    def object_weights(self, item) -> tuple[np.ndarray, np.ndarray]:
        """The object mask and the authors' pixel weights (the logit), both
        at the input's resolution."""
        logit = self.logits(item)
        return (logit > self.threshold).numpy(), logit.numpy()


def saliency_source(model, value: str | None
                    ) -> SaliencyMasks | HeadSaliency | None:
    """``'head'``: the model's saliency head; a folder: mask files; None:
    no saliency."""
    if value is None:
        return None
    return HeadSaliency(model) if value == 'head' else SaliencyMasks(value)


#: How an object's embedding is made and clustered (object-level K-means).
OBJECT_RULES = ('paper', 'official')


def raw_kind(model, kind: str) -> str:
    """``{kind}_raw`` where the model exposes it (the head's output before
    its normalisation, what the authors' code averages), else ``kind``."""
    return f'{kind}_raw' if f'{kind}_raw' in getattr(
        model, 'FEATURE_PARTS', {}) else kind


def object_vector(feature: torch.Tensor, mask: np.ndarray,
                  weights: np.ndarray | None, rule: str = 'paper'
                  ) -> np.ndarray:
    """The L2-normalised embedding of one salient object.

    Args:
        feature: ``C x h x w`` features before any normalisation; upsampled
            bilinearly to the mask's grid (at its pixels only).
        mask: ``H x W`` object pixels (not empty).
        weights: ``H x W`` pixel weights (``official``; None: 1).
        rule: ``paper`` (supplement E: "the mean embeddings of the
            foreground objects ... using the L2-normalized feature
            vectors": each pixel's embedding normalised, their mean,
            normalised) or ``official`` (the authors' ``kmeans_utils.py``:
            the un-normalised embeddings summed with the saliency logit as
            weight, normalised).
    """
    from mmssl_seg.models.losses import upsampled_pixels
    pixels, _ = upsampled_pixels(feature[None].float(),
                                 torch.from_numpy(mask)[None].long(),
                                 normalize=rule == 'paper')
    if rule == 'paper':
        vector = pixels.mean(0)
    else:
        w = torch.ones(len(pixels)) if weights is None else \
            torch.from_numpy(weights[mask]).float()
        vector = (pixels * w[:, None]).sum(0)
    return F.normalize(vector, dim=0).numpy()


def cluster_objects(points: np.ndarray, k: int, seed: int,
                    rule: str = 'paper') -> np.ndarray:
    """Cluster ids of the object embeddings: K-means on them (``paper``), or
    PCA whitening to at most 32 dimensions and scikit-learn's
    ``MiniBatchKMeans(batch_size=1000)`` (``official``)."""
    if rule == 'paper':
        return assign(torch.from_numpy(points),
                      fit_kmeans(points, k, seed=seed)).numpy()
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import PCA
    whitened = PCA(n_components=min(32, *points.shape),
                   whiten=True).fit_transform(points)
    return MiniBatchKMeans(n_clusters=k, batch_size=1000,
                           random_state=seed).fit_predict(whitened)


def object_kmeans(model, dataset, num_classes: int,
                  saliency: SaliencyMasks | HeadSaliency,
                  ks: Sequence[int] | None = None,
                  seeds: Sequence[int] = range(5), kind: str = 'backbone',
                  in_index: int = -1, ignore_index: int = 255,
                  rule: str = 'paper') -> dict:
    """Object-level K-means: one embedding per image's salient object
    (:func:`object_vector`, at the saliency's resolution), clustered
    (:func:`cluster_objects`); every pixel of the object takes its cluster,
    the rest of the image the background id.

    Args:
        ks: Numbers of object clusters; default ``num_classes - 1`` (the
            background is its own cluster, so K + 1 ids meet the classes).
        saliency: Where the salient-object masks come from: the model's
            saliency head (:class:`HeadSaliency`, the paper) or mask files
            (:class:`SaliencyMasks`; their pixels weigh 1).
        rule: ``paper`` (default) or ``official``
            (configs/mask_contrast/README.md).
    """
    if rule not in OBJECT_RULES:
        raise ValueError(f'rule must be one of {OBJECT_RULES}, got {rule}')
    ks = [num_classes - 1] if ks is None else list(ks)
    objects, masks, gts = [], [], []
    for item in iterate_features(model, dataset, raw_kind(model, kind),
                                 in_index, normalize=False,
                                 description='object K-means: objects'):
        mask, weights = saliency.object_weights(item)
        objects.append(object_vector(item.feature, mask, weights, rule)
                       if mask.any() else None)  # None: all background
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
            it = iter(cluster_objects(points, k, s, rule))
            total = 0
            for obj, mask, gt in zip(objects, masks, gts):
                pred = np.full(mask.shape, k, dtype=np.int64)  # background
                if obj is not None:
                    pred[mask] = next(it)
                total = total + confusion_matrix(
                    upsample_labels(pred, gt.shape), gt, k + 1, num_classes,
                    ignore_index)
            confusions[(k, s)] = total
    return {'level': 'object', 'kind': kind, 'rule': rule,
            'seeds': list(seeds), 'objects': int(len(points)),
            'images': len(objects),
            'K': _summarise(confusions, num_classes,
                            {k: k + 1 for k in ks if k not in skipped}),
            'skipped_K': skipped}
