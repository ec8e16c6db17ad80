"""Object mask proposals for MaskContrast, image by image.

Output folder layout:

* ``soft/<stem>.png``: the soft saliency map (0..255), the expensive part,
  cached: a rerun skips images whose soft map exists;
* ``masks/<stem>.png``: the post-processed object mask (0/255) of every kept
  image (recomputed from the soft maps on every run, cheaply);
* ``kept.txt``: the stems of the kept images (a dataset ``ann_file``), and
  ``kept_<split>.txt`` per dataset split when the images came from one
  (pretrain on ``kept_train.txt``: evaluation images stay unseen);
* ``manifest.json``: the parameters and, per image, kept or dropped and why;
* ``saliency_quality.{json,md}``: max F-beta, MAE and PmIoU where ground
  truth was given.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Callable, Sequence

import cv2
import numpy as np

from mmssl_seg.priors.manifest import Manifest, merge_manifests, shard
from mmssl_seg.priors.saliency.handcrafted import METHODS
from mmssl_seg.priors.saliency.postprocess import postprocess
from mmssl_seg.priors.saliency.quality import SaliencyQuality
from mmssl_seg.priors.segmentor import SegmentorProbability
from mmssl_seg.utils.errors import ArgumentError, DegeneratePriorError
from mmssl_seg.utils.io import ImageReadError, atomic_path, read_image
from mmssl_seg.utils.parallel import parallel_map

TOOL = 'make_saliency'


def read_soft_mask(path: str, shape: tuple[int, int],
                   image: str) -> np.ndarray:
    """A user's mask (0/255, 0/1 or soft 0..255) as a float map in [0, 1];
    errors name the mask and its image."""
    mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise FileNotFoundError(f'mask missing: {path} (for {image})')
    if mask.shape != tuple(shape):
        raise ValueError(f'mask {path} is {mask.shape}, its image {image} '
                         f'is {tuple(shape)}')
    return mask.astype(np.float32) / (1.0 if mask.max() <= 1 else 255.0)


def saliency_network(config: str, checkpoint: str) -> SegmentorProbability:
    """Soft saliency from a trained MMSeg segmentor with two classes
    (background, salient), through its config's ``saliency_pipeline`` (the
    bootstrapping stage)."""
    return SegmentorProbability(config, checkpoint, 'saliency_pipeline')


class SoftMapWriter:
    """Computes and writes one image's soft map (picklable for workers).

    Args:
        out_dir: The output folder.
        method: ``rbd``, ``spectral_residual``, ``fine_grained``,
            ``imported`` or ``network``.
        import_dir: Masks to import (``imported``).
        network: A :func:`saliency_network` (``network``).
    """

    def __init__(self, out_dir: str, method: str,
                 import_dir: str | None = None,
                 network: SegmentorProbability | None = None,
                 strict: bool = False) -> None:
        if method not in (*METHODS, 'imported', 'network'):
            raise ArgumentError(f'unknown saliency method {method}')
        if method == 'imported' and not import_dir:
            raise ArgumentError('method imported needs the folder of masks')
        if method == 'network' and network is None:
            raise ArgumentError('method network needs a trained network')
        self.out_dir = out_dir
        self.method = method
        self.import_dir = import_dir
        self.network = network
        self.strict = strict

    def path(self, stem: str) -> str:
        return osp.join(self.out_dir, 'soft', stem + '.png')

    def __call__(self, item: tuple[str, str]) -> tuple[str, str | None]:
        """Write one soft map; ``(stem, None)``, or ``(stem, reason)`` for
        an unreadable image (raised with ``strict``)."""
        stem, image_path = item
        try:
            return self._write(stem, image_path)
        except ImageReadError as error:
            if self.strict:
                raise
            return stem, str(error)

    def _write(self, stem: str, image_path: str) -> tuple[str, None]:
        out = self.path(stem)
        if osp.isfile(out):
            return stem, None
        if self.method == 'imported':
            shape = read_image(image_path).shape[:2]
            soft = read_soft_mask(osp.join(self.import_dir, stem + '.png'),
                                  shape, image_path)
        elif self.method == 'network':
            soft = self.network(read_image(image_path))
        else:
            soft = METHODS[self.method](read_image(image_path))
        with atomic_path(out) as tmp:
            if not cv2.imwrite(tmp, np.round(soft * 255).astype(np.uint8)):
                raise OSError(f'could not write {out}')
        return stem, None


def make_saliency(images: Sequence[tuple[str, str]],
                  out_dir: str,
                  method: str = 'rbd',
                  threshold: float = 0.5,
                  min_component: float = 0.01,
                  min_salient: float = 0.01,
                  workers: int = 1,
                  shard_spec: tuple[int, int] = (1, 1),
                  import_dir: str | None = None,
                  network: SegmentorProbability | None = None,
                  ground_truth: Callable | None = None,
                  split_of: dict[str, str] | None = None,
                  strict: bool = False) -> dict:
    """Soft maps, masks, manifest and (with ``ground_truth``) quality for
    this shard of ``images``; returns the merged manifest plus quality.
    An unreadable image is skipped and listed under ``failed``
    (``strict``: the run stops at it)."""
    params = dict(method=method, threshold=threshold,
                  min_component=min_component, min_salient=min_salient,
                  import_dir=import_dir,
                  network=None if network is None else network.params)
    # validates the method before the manifest writes params.json
    writer = SoftMapWriter(out_dir, method, import_dir, network, strict)
    manifest = Manifest(out_dir, TOOL, params, shard_spec)
    todo = shard(images, *shard_spec)
    failed = {stem: reason for stem, reason in parallel_map(
        writer, todo, workers, f'saliency ({method})') if reason}
    for stem, image_path in todo:
        if stem in failed:
            manifest.entries[stem] = dict(kept=False, failed=failed[stem],
                                          image=image_path)
            continue
        soft = cv2.imread(writer.path(stem), cv2.IMREAD_GRAYSCALE) / 255.0
        mask, decision = postprocess(soft, threshold, min_component,
                                     min_salient)
        out = osp.join(out_dir, 'masks', stem + '.png')
        if decision.kept:
            with atomic_path(out) as tmp:
                cv2.imwrite(tmp, mask * 255)
        elif osp.isfile(out):
            os.remove(out)  # dropped under the current parameters
        manifest.entries[stem] = dict(decision.to_dict(), image=image_path,
                                      split=(split_of or {}).get(stem))
    manifest.save()
    merged = merge_manifests(out_dir)
    kept = sorted(s for s, e in merged['entries'].items() if e['kept'])
    lists = {'kept.txt': kept}
    for split in {e.get('split') for e in merged['entries'].values()} - {
            None}:
        lists[f'kept_{split}.txt'] = [
            s for s in kept if merged['entries'][s].get('split') == split]
    for name, stems in lists.items():
        with atomic_path(osp.join(out_dir, name)) as tmp:
            with open(tmp, 'w') as f:
                f.write(''.join(s + '\n' for s in stems))
    merged['kept'] = len(kept)
    merged['dropped'] = len(merged['entries']) - len(kept) - len(
        merged['failed'])
    if merged['complete'] and merged['entries'] and not kept:
        raise DegeneratePriorError(
            f'no image of {len(merged["entries"])} kept a salient object '
            f'(threshold {threshold}, min_salient {min_salient}): '
            'MaskContrast would have nothing to train on')
    if ground_truth is not None:  # over every image done, all shards
        quality = SaliencyQuality()
        for stem, entry in sorted(merged['entries'].items()):
            if 'failed' in entry:
                continue
            soft = cv2.imread(writer.path(stem), cv2.IMREAD_GRAYSCALE) / 255.0
            mask = cv2.imread(osp.join(out_dir, 'masks', stem + '.png'),
                              cv2.IMREAD_GRAYSCALE) // 255 if entry[
                                  'kept'] else None
            quality.update(soft, ground_truth(stem, soft.shape), mask)
        merged['quality'] = quality.compute()
    return merged
