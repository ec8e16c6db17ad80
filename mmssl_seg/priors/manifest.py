"""What every offline prior tool shares: the image list, ``--shard K/N``
and a manifest that records parameters and the fate of every image (the
worker pool is :func:`mmssl_seg.utils.parallel.parallel_map`).

Outputs are written per image and atomically by the tools (see
:func:`mmssl_seg.utils.io.atomic_path`); work whose output exists is skipped,
so an interrupted or sharded run is completed by running it again. Each shard
writes ``manifest.shard-K-of-N.json``; :func:`merge_manifests` combines them.
"""
from __future__ import annotations

import glob
import json
import os
import os.path as osp
from typing import Any, Sequence

from mmssl_seg.datasets.builder import split_dataset
from mmssl_seg.utils.errors import ArgumentError, ParameterMismatchError
from mmssl_seg.utils.io import claim_folder, write_json

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')


def parse_shard(text: str | None) -> tuple[int, int]:
    """``'K/N'`` (1-based) -> ``(K, N)``; ``None`` -> ``(1, 1)``."""
    if not text:
        return 1, 1
    try:
        k, n = (int(v) for v in text.split('/'))
    except ValueError:
        raise ArgumentError(f'--shard takes K/N, got {text!r}') from None
    if not 1 <= k <= n:
        raise ArgumentError(f'--shard {text}: need 1 <= K <= N')
    return k, n


def shard(items: Sequence, k: int, n: int) -> list:
    """Every N-th item starting at the K-th (1-based): shards are disjoint,
    cover everything and are balanced."""
    return list(items[k - 1::n])


def list_images(images: str | None = None, ids: str | None = None,
                data_config: str | None = None,
                splits: Sequence[str] = ('train', ),
                split_of: dict[str, str] | None = None
                ) -> list[tuple[str, str]]:
    """``(stem, path)`` of the images to process, sorted by stem.

    Args:
        images: A folder of images (all of them, or those named in ``ids``).
        ids: A file of image stems, one per line.
        data_config: A config with datasets (a data config or a training
            config); the images of its ``splits``.
        split_of: Filled with ``stem -> split`` (dataset configs only), so
            tools can write one list per split.
    """
    found: dict[str, str] = {}
    if data_config is not None:
        for split in splits:
            dataset = split_dataset(data_config, split)
            for i in range(len(dataset)):
                path = dataset.get_data_info(i)['img_path']
                stem = osp.splitext(osp.basename(path))[0]
                found[stem] = path
                if split_of is not None:
                    split_of[stem] = split
    elif images is not None:
        files = {osp.splitext(f)[0]: osp.join(images, f)
                 for f in os.listdir(images)
                 if f.lower().endswith(IMAGE_SUFFIXES)}
        if ids is not None:
            with open(ids) as f:
                wanted = [line.strip() for line in f if line.strip()]
            missing = [w for w in wanted if w not in files]
            if missing:
                raise FileNotFoundError(
                    f'{len(missing)} ids of {ids} have no image in {images}, '
                    f'e.g. {missing[:3]}')
            files = {w: files[w] for w in wanted}
        found = files
    else:
        raise ArgumentError('give an image folder (--images) or a dataset '
                            'config (--data)')
    if not found:
        where = images or data_config
        raise FileNotFoundError(f'no image ({", ".join(IMAGE_SUFFIXES)}) '
                                f'found in {where}')
    return sorted(found.items())


class Manifest:
    """The record of one tool run on one shard.

    Refuses to continue a folder made with other parameters (which would mix
    outputs). The parameters go to ``params.json`` as soon as it is made,
    before any output, so a run stopped at any stage (a fit, a first image)
    has recorded them; the shard's entries are written atomically whenever
    :meth:`save` is called. Entries with a ``failed`` key are images that
    could not be processed (the reason).

    Args:
        out_dir: The tool's output folder.
        tool: Name of the tool.
        params: Everything that determines the outputs.
        shard: ``(K, N)``.
    """

    def __init__(self, out_dir: str, tool: str, params: dict,
                 shard: tuple[int, int] = (1, 1)) -> None:
        self.out_dir = out_dir
        self.tool = tool
        self.params = json.loads(json.dumps(params))  # as stored
        self.shard = shard
        self.path = osp.join(
            out_dir, f'manifest.shard-{shard[0]}-of-{shard[1]}.json')
        self.entries: dict[str, Any] = {}
        claim_folder(osp.join(out_dir, 'params.json'),
                     {'tool': tool, 'params': self.params})
        # each shard's manifest repeats the claim (a folder of an older
        # version, or one whose params.json was deleted)
        for path in glob.glob(osp.join(out_dir, 'manifest.shard-*.json')):
            with open(path) as f:
                old = json.load(f)
            if old.get('tool') != tool or old.get('params') != self.params:
                raise ParameterMismatchError(
                    f'{out_dir} holds outputs of {old.get("tool")} with '
                    f'other parameters ({path}): {old.get("params")}; use '
                    'another folder or delete it')
            if path == self.path:
                self.entries = old.get('entries', {})

    def failed(self) -> dict[str, str]:
        """Stem -> reason of the images that could not be processed."""
        return {s: e['failed'] for s, e in self.entries.items()
                if 'failed' in e}

    def save(self) -> None:
        write_json(self.path, {'tool': self.tool, 'params': self.params,
                               'shard': list(self.shard),
                               'entries': self.entries})


def exit_on_failures(result: dict) -> None:
    """End a tool with status 1 and the list of the images it could not
    process (they were skipped; the other outputs are written)."""
    failed = result.get('failed') or {}
    if failed:
        lines = '\n  '.join(f'{stem}: {why}' for stem, why in
                            sorted(failed.items())[:20])
        more = f'\n  ... and {len(failed) - 20} more' if len(
            failed) > 20 else ''
        raise SystemExit(f'{len(failed)} image(s) could not be processed '
                         f'(listed in the manifest as failed):\n  {lines}'
                         f'{more}')


def merge_manifests(out_dir: str) -> dict:
    """Combine the shard manifests of ``out_dir`` into ``manifest.json``
    (with ``complete`` telling whether every shard of N has reported)."""
    paths = sorted(glob.glob(osp.join(out_dir, 'manifest.shard-*.json')))
    if not paths:
        raise FileNotFoundError(f'no shard manifest in {out_dir}')
    merged: dict[str, Any] = {}
    shards = set()
    for path in paths:
        with open(path) as f:
            part = json.load(f)
        merged.setdefault('tool', part['tool'])
        merged.setdefault('params', part['params'])
        merged.setdefault('entries', {}).update(part['entries'])
        shards.add(tuple(part['shard']))
    total = next(iter(shards))[1]
    merged['failed'] = {s: e['failed'] for s, e in merged['entries'].items()
                        if 'failed' in e}
    merged['shards_done'] = sorted(k for k, _ in shards)
    merged['complete'] = {k for k, _ in shards} == set(range(1, total + 1))
    write_json(osp.join(out_dir, 'manifest.json'), merged)
    return merged
