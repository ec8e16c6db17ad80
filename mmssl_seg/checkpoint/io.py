"""Reading checkpoints without running code they name, and writing
tensors-only ones.

Three rules (torch >= 2.6 loads with ``weights_only=True`` by default):

* Nothing a checkpoint names is ever executed. :func:`read_checkpoint` loads
  with ``weights_only=True``; the non-tensor objects a full mmengine training
  checkpoint holds (``HistoryBuffer``, numpy scalars, ``builtins.getattr``)
  are replaced by inert placeholders, so their code never runs.
* What we write is tensors-only (:func:`save_tensors_only`) and loads with
  ``weights_only=True`` anywhere.
* A runner unpickles in full only the checkpoint that ``--resume``
  continues from (:func:`read_runner_checkpoint`).
"""
from __future__ import annotations

import hashlib
import os.path as osp
import pickle
import re
import zipfile
from typing import Mapping

import torch
import torch.serialization

from mmssl_seg.utils.errors import UserError
from mmssl_seg.utils.io import atomic_path


class _Inert:
    """Stands in for any non-allow-listed global while unpickling: accepts
    every argument and ignores every state, so no foreign code runs."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __repr__(self) -> str:
        return '<non-tensor object, not loaded>'


class CheckpointReadError(UserError, ValueError):
    """A checkpoint file that is cut short or not a torch checkpoint."""


def read_checkpoint(path: str, map_location: str = 'cpu') -> dict:
    """Load any checkpoint file (zip or legacy format) without running code
    it names.

    Tensors-only files load as they are. In a full training checkpoint every
    object outside torch's ``weights_only`` allow-list (``HistoryBuffer``,
    numpy scalars, an ``argparse.Namespace``) becomes an inert placeholder;
    tensors and plain containers come back intact. A file cut short or not
    written by ``torch.save`` raises :class:`CheckpointReadError` naming it.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    with open(path, 'rb') as f:
        is_zip = f.read(4) == b'PK\x03\x04'
    if is_zip and not zipfile.is_zipfile(path):
        raise CheckpointReadError(
            f'checkpoint {path} is incomplete: the file ends before its zip '
            'directory (cut short, e.g. by a kill while it was saved)')
    # zip files list their globals; for the legacy format each refusal
    # names the next one
    placeholders = list(
        torch.serialization.get_unsafe_globals_in_checkpoint(path)) \
        if is_zip else []
    for _ in range(256):
        try:
            with torch.serialization.safe_globals(
                    [(_Inert, name) for name in placeholders]):
                return torch.load(path, map_location=map_location,
                                  weights_only=True)
        except pickle.UnpicklingError as error:
            found = re.search(r'Unsupported global: GLOBAL (\S+)',
                              str(error))
            name = found and found.group(1)
            if name and '.' not in name:  # torch names builtins bare
                name = f'builtins.{name}'
            if not name or name in placeholders:
                raise CheckpointReadError(
                    f'{path} is not a readable torch checkpoint: '
                    f'{str(error).splitlines()[0][:200]}') from None
            placeholders.append(name)
        except (RuntimeError, OSError, EOFError, ValueError, KeyError,
                IndexError) as error:  # what torch raises on other bytes
            detail = (str(error).splitlines() or [''])[0][:200]
            raise CheckpointReadError(
                f'{path} is not a torch checkpoint (torch.load: '
                f'{type(error).__name__} {detail})') from None
    raise CheckpointReadError(f'{path}: too many non-tensor objects')


def state_dict_of(checkpoint: Mapping) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint: its ``state_dict`` (mmengine, MMSeg,
    MoCo), ``model`` (timm, DeiT) or the mapping itself."""
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    return {k: v for k, v in checkpoint.items() if isinstance(v, torch.Tensor)}


def save_tensors_only(state_dict: Mapping[str, torch.Tensor], path: str,
                      meta: Mapping[str, str | int | float] | None = None
                      ) -> None:
    """Write ``{'state_dict': ..., 'meta': ...}`` atomically; loadable with
    ``weights_only=True`` (meta holds only strings and numbers)."""
    for key, value in (meta or {}).items():
        if not isinstance(value, (str, int, float)):
            raise TypeError(f'meta[{key!r}] must be str/int/float, got '
                            f'{type(value).__name__}')
    payload = {
        'state_dict': {k: v.detach().cpu().clone()
                       for k, v in state_dict.items()},
        'meta': dict(meta or {}),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def state_dict_sha256(state: Mapping[str, torch.Tensor]) -> str:
    """sha256 of tensors by name (names, dtypes, shapes, values): a model's
    ``state_dict()`` or a checkpoint's."""
    digest = hashlib.sha256()
    for name, tensor in sorted(state.items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f'{name}|{tensor.dtype}|{tuple(tensor.shape)}|'.encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes()
                      if tensor.numel() else b'')
    return digest.hexdigest()


def weights_sha256(path: str) -> str:
    """sha256 of a checkpoint's tensors (:func:`state_dict_sha256`), not of
    its file: the same weights extracted twice (whose files differ in their
    ``meta``, e.g. the time) have one digest; a cache keyed on it reuses
    work for the same weights and only for them."""
    return state_dict_sha256(state_dict_of(read_checkpoint(path)))


class UntrustedCheckpointError(UserError, pickle.UnpicklingError):
    """A checkpoint holds objects that ``weights_only=True`` refuses, and it
    is not the one ``--resume`` continues from."""


def read_runner_checkpoint(path: str, map_location='cpu',
                           resuming: bool = False) -> dict:
    """What a runner loads: the whole checkpoint, unpickled in full only when
    ``resuming`` (``--resume`` was asked for explicitly and needs the
    optimizer state and message hub); any other file is read with
    ``weights_only=True`` (mmengine's loader, so every scheme it knows
    works) and refused, with what to do instead, if it holds more than
    tensors."""
    from mmengine.runner.checkpoint import _load_checkpoint
    if resuming:
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        return _load_checkpoint(path, map_location)
    except pickle.UnpicklingError as error:
        said = re.sub(r'\x1b\[[0-9;]*m', '', str(error).splitlines()[0])
        raise UntrustedCheckpointError(
            f'{path} holds objects other than tensors (a full training '
            'checkpoint), so it is read with weights_only=True and refused. '
            'To continue the run that wrote it: tools/train.py --resume with '
            '--work-dir its folder. To evaluate it: tools/test.py reads its '
            'weights safely. To start from it: convert it with '
            'tools/model_converters/extract_pretrained.py. '
            f'(torch: {said})') from None
