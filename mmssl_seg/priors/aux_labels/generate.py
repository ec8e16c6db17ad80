"""Auxiliary labels (Zhang et al., NeurIPS 2021, sec. 3 and Fig. 4).

Two stages:

1. **fit** (once per folder): the features of a uniform random sample of
   the images (5000 in the paper), every pixel of them unless that exceeds
   the memory given to the fit (then an equal share of each image), K-means
   with faiss on all those points, and the distance beyond which the 5 % of
   sampled pixels farthest from their centre lie. Written
   to ``centres.npz`` + ``centres.json``; every shard then labels with the
   same centres and threshold, so labelling image by image (or on many
   machines) gives what labelling all at once would.
2. **label** (per image, sharded, resumable): nearest centre per pixel at
   1/8 resolution, pixels beyond the threshold dropped (255), upsampled to
   the image, then superpixel voting: SLIC over-segmentation and each
   superpixel takes its most common label. Writes ``labels/<stem>.png``
   (uint8, 0..K-1, 255 = none) and ``superpixels/<stem>.png`` (uint16 ids),
   each atomically.

Features are streamed image by image; only the fit keeps its pixel sample,
bounded by ``fit_memory_gb`` (default: half of this machine's memory).
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Callable, Sequence

import cv2
import numpy as np
import torch
from rich.progress import track

from mmssl_seg.priors.manifest import Manifest, merge_manifests, shard
from mmssl_seg.structures import prior_path
from mmssl_seg.utils.errors import (
    ArgumentError,
    DegeneratePriorError,
    ParameterMismatchError,
)
from mmssl_seg.utils.io import (
    ImageReadError,
    atomic_path,
    read_image,
    write_json,
)
from mmssl_seg.utils.kmeans import assign, fit_kmeans

TOOL = 'make_aux_labels'
IGNORE = 255
SAVE_EVERY = 50  # manifest writes while labelling (it grows with the set)
#: Largest mean share of unlabelled pixels a label folder may have.
MAX_UNLABELLED = 0.5


def sample_stems(images: Sequence[tuple[str, str]], count: int,
                 seed: int = 0) -> list[tuple[str, str]]:
    """A uniform random sample (without replacement, sorted) of images."""
    if count >= len(images):
        return list(images)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(images), count, replace=False))
    return [images[i] for i in chosen]


def physical_memory_gb() -> float:
    """This machine's memory in GiB."""
    import os
    return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30


def sample_points(images: Sequence[tuple[str, str]], extractor: Callable,
                  max_points: int | None = None,
                  fit_memory_gb: float | None = None,
                  seed: int = 0,
                  strict: bool = False) -> tuple[np.ndarray, dict]:
    """The pixel features of ``images`` for the fit: all of them when they
    fit ``fit_memory_gb`` (and ``max_points`` if given), else an equal
    random share of every image.

    Returns:
        ``P x C`` float32 points and ``{'per_image', 'bounded', 'failed',
        'whole'}``: the share per image (None: all pixels), whether a bound
        cut any image, the unreadable images skipped (raised with
        ``strict``), and where each image taken whole lies in the points
        (``stem -> (first row, C, h, w)``, so labelling reuses its
        features instead of computing them again).
    """
    if fit_memory_gb is None:
        fit_memory_gb = physical_memory_gb() / 2
    rng = np.random.default_rng(seed)
    buffer, filled, quota, bounded, failed = None, 0, None, False, {}
    whole = {}
    for stem, path in track(images, description='features (fit sample)'):
        try:
            image = read_image(path)
        except ImageReadError as error:
            if strict:
                raise
            failed[stem] = str(error)
            continue
        feature = extractor(image)
        flat = feature.flatten(1).T.numpy()
        if buffer is None:  # the bound in points, from the feature width
            budget = int(fit_memory_gb * 2**30 // (4 * flat.shape[1]))
            if max_points is not None:
                budget = min(budget, max_points)
            quota = max(1, budget // len(images))
            # untouched pages of np.empty cost no memory
            buffer = np.empty((quota * len(images), flat.shape[1]),
                              np.float32)
        if len(flat) > quota:
            flat = flat[rng.choice(len(flat), quota, replace=False)]
            bounded = True
        else:
            whole[stem] = (filled, *feature.shape)
        buffer[filled:filled + len(flat)] = flat
        filled += len(flat)
    if buffer is None:
        raise ImageReadError(f'no readable image among {len(images)}: '
                             f'{list(failed.values())[:3]}')
    return buffer[:filled], {'per_image': quota if bounded else None,
                             'bounded': bounded, 'failed': failed,
                             'whole': whole}


def nearest_centre(points: torch.Tensor, centres: np.ndarray
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row of ``points`` (``P x C``): nearest centre and its squared
    distance."""
    labels = assign(points, centres)
    c = torch.as_tensor(centres, dtype=points.dtype)
    return labels, ((points - c[labels])**2).sum(1)


def fit_on_points(points: np.ndarray, k: int, drop: float = 0.05,
                  seed: int = 0) -> tuple[np.ndarray, float]:
    """Centres of ``points`` and the squared distance beyond which the
    ``drop`` fraction of them lies (``inf`` without dropping)."""
    # faiss subsamples to 256 points per centre by default: use them all
    centres = fit_kmeans(points, k, seed,
                         max_points_per_centroid=-(-len(points) // k))
    if drop <= 0:
        return centres, float('inf')
    _, distance = nearest_centre(torch.from_numpy(points), centres)
    return centres, float(np.quantile(distance.numpy(), 1 - drop))


def fit_centres(images: Sequence[tuple[str, str]], extractor: Callable,
                k: int, sample_images: int = 5000,
                max_points: int | None = None,
                fit_memory_gb: float | None = None, drop: float = 0.05,
                seed: int = 0, strict: bool = False) -> dict:
    """The fit stage: centres, and the distance threshold that drops the
    ``drop`` fraction of sampled pixels farthest from their centre."""
    sample = sample_stems(images, sample_images, seed)
    points, info = sample_points(sample, extractor, max_points,
                                 fit_memory_gb, seed, strict)
    centres, threshold = fit_on_points(points, k, drop, seed)
    whole = info.pop('whole')
    features = {stem: torch.from_numpy(points[start:start + h * w]).T.reshape(
        c, h, w) for stem, (start, c, h, w) in whole.items()}
    return {'centres': centres, 'threshold': threshold,
            'sample': [s for s, _ in sample], 'points': len(points),
            'features': features, **info}


def superpixels(image: np.ndarray, size: int = 16,
                compactness: float = 10.0) -> np.ndarray:
    """SLIC superpixels (Achanta et al.) of about ``size x size`` pixels,
    ids 0..S-1."""
    from skimage.segmentation import slic
    h, w = image.shape[:2]
    segments = slic(image[..., ::-1], n_segments=max(1, h * w // size**2),
                    compactness=compactness, start_label=0,
                    convert2lab=True)
    return segments.astype(np.int32)


def vote(labels: np.ndarray, segments: np.ndarray,
         num_labels: int) -> np.ndarray:
    """Every superpixel takes its most common label (ignoring ``IGNORE``;
    a superpixel without any label stays ``IGNORE``); ties go to the
    smaller label."""
    lab = np.where(labels == IGNORE, num_labels, labels).astype(np.int64)
    n = int(segments.max()) + 1
    counts = np.bincount(segments.ravel().astype(np.int64) *
                         (num_labels + 1) + lab.ravel(),
                         minlength=n * (num_labels + 1)).reshape(
                             n, num_labels + 1)[:, :num_labels]
    winner = np.where(counts.max(1) > 0, counts.argmax(1), IGNORE)
    return winner[segments].astype(np.uint8)


def labels_from_feature(feature: torch.Tensor, centres: np.ndarray,
                        threshold: float, segments: np.ndarray
                        ) -> tuple[np.ndarray, float]:
    """Auxiliary labels of one image from its ``C x h x w`` features: the
    nearest centre, ``IGNORE`` beyond ``threshold``, upsampled to the
    superpixels' size and voted per superpixel; also the dropped share."""
    points = feature.flatten(1).T
    labels, distance = nearest_centre(points, centres)
    raw = torch.where(distance > threshold, IGNORE, labels).view(
        feature.shape[1:]).numpy().astype(np.uint8)
    h, w = segments.shape
    raw = cv2.resize(raw, (w, h), interpolation=cv2.INTER_NEAREST)
    return vote(raw, segments, len(centres)), float((raw == IGNORE).mean())


def label_image(image: np.ndarray, extractor: Callable, centres: np.ndarray,
                threshold: float, superpixel_size: int = 16,
                compactness: float = 10.0,
                feature: torch.Tensor | None = None
                ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Auxiliary labels and superpixels of one image (the label stage);
    ``feature``: the image's features when already computed (the fit)."""
    segments = superpixels(image, superpixel_size, compactness)
    if feature is None:
        feature = extractor(image)
    voted, dropped = labels_from_feature(feature, centres, threshold,
                                         segments)
    return voted, segments, {
        'dropped': dropped,
        'unlabelled': float((voted == IGNORE).mean()),
        'superpixels': int(segments.max()) + 1,
    }


def check_labels(merged: dict, max_unlabelled: float = MAX_UNLABELLED
                 ) -> None:
    """Raise :class:`DegeneratePriorError` when the labelled images (all
    shards) leave on average more than ``max_unlabelled`` of their pixels
    without a label: centres that do not fit the features the images were
    labelled with (e.g. fitted with another extractor), or a threshold that
    drops nearly everything. A fitted folder leaves about ``drop`` (5 %)
    before superpixel voting, less after."""
    shares = [e['unlabelled'] for e in merged['entries'].values()
              if 'unlabelled' in e]
    if shares and float(np.mean(shares)) > max_unlabelled:
        raise DegeneratePriorError(
            f'{np.mean(shares):.1%} of the pixels of {len(shares)} labelled '
            'images carry no auxiliary label (drop threshold '
            f'{merged.get("threshold", float("nan")):.4g}; a fit leaves '
            f'about {merged["params"]["drop"]:.0%}): the labels are '
            'unusable. The centres do not fit the features the images were '
            'labelled with; make the labels again in a new folder.')


def make_aux_labels(images: Sequence[tuple[str, str]],
                    out_dir: str,
                    extractor: Callable,
                    extractor_desc: dict,
                    k: int,
                    sample_images: int = 5000,
                    max_points: int | None = None,
                    fit_memory_gb: float | None = None,
                    drop: float = 0.05,
                    superpixel_size: int = 16,
                    compactness: float = 10.0,
                    seed: int = 0,
                    shard_spec: tuple[int, int] = (1, 1),
                    stage: str = 'all',
                    strict: bool = False,
                    max_unlabelled: float = MAX_UNLABELLED) -> dict:
    """Both stages for this shard of ``images``; returns the merged manifest
    (their PmIoU: :func:`~mmssl_seg.priors.aux_labels.quality.label_quality`).
    An unreadable image is skipped and listed under ``failed`` (``strict``:
    the run stops at it). Labels whose mean share of unlabelled pixels
    exceeds ``max_unlabelled`` end the run with an error
    (:func:`check_labels`)."""
    if stage not in ('all', 'fit', 'label'):
        raise ArgumentError(f'stage must be all, fit or label, got {stage}')
    params = dict(extractor=extractor_desc, k=k, sample_images=sample_images,
                  max_points=max_points, fit_memory_gb=fit_memory_gb,
                  drop=drop,
                  superpixel_size=superpixel_size, compactness=compactness,
                  seed=seed)
    manifest = Manifest(out_dir, TOOL, params, shard_spec)
    centres_path = osp.join(out_dir, 'centres.npz')
    made_by = osp.join(out_dir, 'centres.json')
    computed = {}  # features the fit computed in this process, by stem
    # centres.json is written before centres.npz: the npz means a whole fit
    if osp.isfile(centres_path) and osp.isfile(made_by):
        # the manifest above refused other parameters; centres.json says
        # what made these centres (a folder of an older version may lack a
        # manifest)
        with open(made_by) as f:
            made = json.load(f)
        recorded, fit_failed = made.get('params'), made.get('failed', {})
        if recorded != json.loads(json.dumps(params)):
            raise ParameterMismatchError(
                f'{centres_path} was fitted with other parameters '
                f'({made_by}: {recorded}); use another folder')
        with np.load(centres_path) as f:
            centres, threshold = f['centres'], float(f['threshold'])
    elif stage == 'label':
        raise FileNotFoundError(f'{centres_path} missing: run the fit stage '
                                '(--stage fit) first')
    else:
        fit = fit_centres(images, extractor, k, sample_images, max_points,
                          fit_memory_gb, drop, seed, strict)
        centres, threshold = fit['centres'], fit['threshold']
        fit_failed, computed = fit['failed'], fit['features']
        write_json(made_by, {
            'k': k, 'threshold': threshold, 'points': fit['points'],
            'per_image': fit['per_image'], 'bounded': fit['bounded'],
            'failed': fit['failed'],
            'sample_images': fit['sample'], 'params': params})
        with atomic_path(centres_path) as tmp:
            with open(tmp, 'wb') as f:
                np.savez(f, centres=centres, threshold=threshold)
    if stage == 'fit':
        return {'centres': centres_path, 'threshold': threshold,
                'failed': fit_failed}

    todo = shard(images, *shard_spec)
    for stem, path in track(todo, description=f'auxiliary labels (K={k})'):
        out_labels = prior_path(out_dir, 'aux_labels', stem)
        out_segments = prior_path(out_dir, 'superpixels', stem)
        if osp.isfile(out_labels) and osp.isfile(out_segments) and \
                stem in manifest.entries:
            continue
        try:
            image = read_image(path)
        except ImageReadError as error:
            if strict:
                raise
            manifest.entries[stem] = dict(failed=str(error), image=path)
            continue
        labels, segments, info = label_image(
            image, extractor, centres, threshold, superpixel_size,
            compactness, feature=computed.pop(stem, None))
        if segments.max() > np.iinfo(np.uint16).max:
            raise ValueError(f'{path}: {segments.max() + 1} superpixels do '
                             'not fit a 16-bit PNG; raise --superpixel-size')
        for out, array in ((out_segments, segments.astype(np.uint16)),
                           (out_labels, labels)):
            with atomic_path(out) as tmp:
                if not cv2.imwrite(tmp, array):
                    raise OSError(f'could not write {out}')
        manifest.entries[stem] = dict(info, image=path)
        if len(manifest.entries) % SAVE_EVERY == 0:
            manifest.save()
    manifest.save()
    merged = merge_manifests(out_dir)
    merged['threshold'] = threshold
    check_labels(merged, max_unlabelled)
    return merged
