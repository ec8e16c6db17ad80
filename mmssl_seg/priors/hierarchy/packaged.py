"""The structured edge forest the package ships (``models/``): the paper's
8-tree forest trained here on BSDS500, so that a fresh install makes the
paper's region trees without BSDS500 and without 15-18 minutes of forest
training first.

The package holds our archive only (``forest.npz``, 6.7 MB); OpenCV's model
file (7.1 MB more), which orientation and unsharpened edges run on, is
rebuilt from it on first use into a cache (``$MMSSL_SEG_CACHE``, else
``~/.cache/mmssl_seg``), as torch.hub caches weights. Both files are checked
against the sha256 of ``models/metafile.yml``: a damaged archive is named,
a damaged or foreign cache is rebuilt.
"""
from __future__ import annotations

import os
import os.path as osp
import shutil

import yaml

from mmssl_seg.utils.errors import UserError
from mmssl_seg.utils.io import atomic_path, sha256_of

#: What ``--edge-model`` (and :class:`StructuredForestEdges`) call it.
PACKAGED = 'packaged'
MODEL_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'models')


class DamagedModelError(UserError, OSError):
    """A packaged model file whose bytes are not those its metafile lists."""


def packaged_forest_entry() -> dict:
    """The metafile's entry of the shipped forest."""
    with open(osp.join(MODEL_DIR, 'metafile.yml')) as f:
        (entry, ) = yaml.safe_load(f)['Models']
    return entry


def cache_root() -> str:
    return os.environ.get('MMSSL_SEG_CACHE') or osp.join(
        osp.expanduser('~'), '.cache', 'mmssl_seg')


def packaged_forest(cache: str | None = None) -> str:
    """The path of the shipped forest's OpenCV model file, with its
    ``forest.npz`` beside it (what :class:`StructuredForestEdges` reads),
    built in ``cache`` (default :func:`cache_root`) unless there already.
    """
    entry = packaged_forest_entry()
    archive = osp.join(MODEL_DIR, entry['Weights'])
    if not osp.isfile(archive):
        raise FileNotFoundError(
            f'the packaged structured edge forest is missing: {archive} '
            '(reinstall mmssl_seg)')
    if sha256_of(archive) != entry['SHA256']:
        raise DamagedModelError(
            f'{archive} is damaged: its sha256 is not the '
            f'{entry["SHA256"]} of models/metafile.yml (reinstall '
            'mmssl_seg)')
    folder = osp.join(cache or cache_root(), 'structured_edges',
                      entry['SHA256'][:16])
    model = osp.join(folder, 'model.yml.gz')
    beside = osp.join(folder, 'forest.npz')
    if not (_holds(beside, entry['SHA256'])
            and _holds(model, entry['OpenCV Model SHA256'])):
        from mmssl_seg.priors.hierarchy.structured_forest import (
            StructuredForest,
            write_opencv_model,
        )
        print(f'building the packaged structured edge forest into {folder} '
              '(once, about 10 s)', flush=True)
        with atomic_path(beside) as tmp:
            shutil.copyfile(archive, tmp)
        write_opencv_model(StructuredForest.load(beside), model)
        if not _holds(model, entry['OpenCV Model SHA256']):
            raise DamagedModelError(
                f'{model}, rebuilt from {archive}, is not the model file of '
                'models/metafile.yml: this version of mmssl_seg writes '
                'another format (retrain the forest with its command)')
    return model


def _holds(path: str, digest: str) -> bool:
    return osp.isfile(path) and sha256_of(path) == digest
