"""Does the data a config reads exist? Checked before a runner is built, so
a missing data set or prior folder stops a run with one short message that
names the path, the environment variable that moves it and what makes it,
instead of hundreds of log lines and a traceback from deep in a dataset."""
from __future__ import annotations

import os
import os.path as osp
import re
from dataclasses import dataclass
from typing import Iterator

from mmengine.config import Config

from mmssl_seg.utils.errors import UserError

_DATA_DOC = 'docs/dataset_prepare.md'
#: environment variable -> how the folder is made
HINTS = {
    'VOC12_ROOT': f'VOC 2012 with SBD (MMSeg\'s voc_aug converter): '
                  f'{_DATA_DOC}',
    'VOC12_MINI_ROOT': _DATA_DOC,
    'CITYSCAPES_ROOT': _DATA_DOC,
    'ADE20K_ROOT': _DATA_DOC,
    'NYUV2_ROOT': _DATA_DOC,
    'NYUV2_RAW_ROOT': f'the NYU Depth V2 raw frames: {_DATA_DOC}',
    'COCO_ROOT': _DATA_DOC,
    'BSDS_ROOT': _DATA_DOC,
    'MOSAIC_ROOT': 'python tools/demo.py builds the texture mosaics',
    'SALIENCY_DIR': 'python tools/priors/make_saliency.py '
                    '(configs/mask_contrast/README.md)',
    'SALIENCY_STAGE1': 'python tools/priors/make_saliency.py --method rbd '
                       '(configs/mask_contrast/README.md)',
    'AUX_LABELS': 'python tools/priors/make_aux_labels.py '
                  '(configs/aux_contrast/README.md)',
    'HIERARCHY_DIR': 'python tools/priors/make_hierarchies.py '
                     '(configs/hier_grouping/README.md)',
    'MOCOV2_BACKBONE': 'the paper starts from MoCo v2: python '
                       'tools/model_converters/extract_pretrained.py '
                       'moco_v2_800ep_pretrain.pth.tar PATH --target CONFIG '
                       '--source-prefix backbone=module.encoder_q. '
                       '(configs/mask_contrast/README.md); to train from '
                       'random init on purpose: --cfg-options '
                       'model.backbone.init_cfg=None',
    'R50_V1C_BACKBONE': 'python tools/model_converters/extract_pretrained.py '
                        'R50_V1C.pth PATH --target CONFIG; to train from '
                        'random init on purpose: --cfg-options '
                        'model.backbone.init_cfg=None',
}
#: What makes the weights of an ``init_cfg=Pretrained`` with no variable.
INIT_HINT = ('convert them with tools/model_converters/extract_pretrained.py '
             '--target CONFIG, or drop the init_cfg to train from random '
             'init')
_ENV_PATTERN = re.compile(r'\{\{\s*\$(\w+)\s*:([^}]*)\}\}')


class DataNotFoundError(UserError, FileNotFoundError):
    """Data or prior folders a config reads do not exist."""


@dataclass(frozen=True)
class MissingPath:
    path: str
    what: str
    variable: str | None

    @property
    def hint(self) -> str:
        if self.variable in HINTS:
            return HINTS[self.variable]
        return INIT_HINT if self.what == INIT_WHAT else _DATA_DOC


def _datasets(cfg: dict) -> Iterator[dict]:
    """Every leaf dataset dict of a dataset config (through ConcatDataset's
    ``datasets`` and wrappers' ``dataset``)."""
    if cfg.get('datasets'):
        for child in cfg['datasets']:
            yield from _datasets(child)
    elif isinstance(cfg.get('dataset'), dict):
        yield from _datasets(cfg['dataset'])
    else:
        yield cfg


def _join(root: str, path: str) -> str:
    return path if not root or osp.isabs(path) else osp.join(root, path)


def _paths(dataset: dict) -> Iterator[tuple[str, str]]:
    """(path, what) for the folders and files a dataset dict reads."""
    root = dataset.get('data_root') or ''
    if root:
        yield root, 'data root'
    prefix = dataset.get('data_prefix') or {}
    if prefix.get('img_path') is not None:
        yield _join(root, prefix['img_path']), 'images'
    seg = prefix.get('seg_map_path')
    if seg and not dataset.get('fallback_seg_map_path'):
        yield _join(root, seg), 'label maps'
    if dataset.get('ann_file'):
        yield _join(root, dataset['ann_file']), 'image list'
    for step in dataset.get('pipeline') or []:
        if isinstance(step, dict) and step.get('root') and str(
                step.get('type', '')).split('.')[-1].startswith('Load'):
            yield step['root'], f'{step["type"]}{PRIOR_WHAT}'


INIT_WHAT = 'pretrained weights (init_cfg)'
PRIOR_WHAT = ' folder'


def _inits(node) -> Iterator[tuple[str, str]]:
    """(checkpoint, what) of every ``init_cfg=Pretrained`` file in a model
    config (URLs aside: mmengine downloads them)."""
    if isinstance(node, dict):
        if node.get('type') == 'Pretrained' and node.get('checkpoint') and (
                '://' not in str(node['checkpoint'])):
            yield str(node['checkpoint']), INIT_WHAT
        for value in node.values():
            yield from _inits(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _inits(value)


def _variables(cfg: Config) -> list[tuple[str, str]]:
    """(value, variable) of the config's ``{{$VAR:default}}`` roots: their
    defaults and, where set, the environment's values."""
    pairs = []
    for name, default in _ENV_PATTERN.findall(cfg.text):
        pairs.append((default, name))
        if os.environ.get(name):
            pairs.append((os.environ[name], name))
    return pairs


def _variable_of(path: str, pairs: list[tuple[str, str]]) -> str | None:
    norm = osp.normpath(path)
    best = None
    for value, name in pairs:
        value = osp.normpath(value)
        if (norm == value or norm.startswith(value + os.sep)) and (
                best is None or len(value) > len(best[0])):
            best = (value, name)
    return best[1] if best else None


def missing_data(cfg: Config, splits: tuple[str, ...] = ('train', ),
                 inits: bool = False, priors: bool = True
                 ) -> list[MissingPath]:
    """The paths of the ``{split}_dataloader`` datasets (data roots, image
    and label folders, image lists, with ``priors`` the prior folders of
    ``Load*`` steps) and, with ``inits``, of the model's
    ``init_cfg=Pretrained`` files that do not exist; a path under a missing
    one is not listed again."""
    pairs = _variables(cfg)
    found: dict[str, str] = {}  # normalised path -> what, first seen
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or not loader.get('dataset'):
            continue
        for dataset in _datasets(loader['dataset']):
            for path, what in _paths(dataset):
                if not priors and what.endswith(PRIOR_WHAT):
                    continue
                if not osp.exists(path):
                    found.setdefault(osp.normpath(path), what)
    for path, what in (_inits(cfg.get('model')) if inits else ()):
        if not osp.exists(path):
            found.setdefault(osp.normpath(path), what)

    def under_another(path: str) -> bool:
        return any(path.startswith(other + os.sep) for other in found)

    return [MissingPath(path, what, _variable_of(path, pairs))
            for path, what in found.items() if not under_another(path)]


def check_data(cfg: Config, splits: tuple[str, ...] = ('train', ),
               inits: bool = False, priors: bool = True) -> None:
    """Raise :class:`DataNotFoundError` naming every missing path of
    :func:`missing_data`, the variable that moves it and what makes it."""
    missing = missing_data(cfg, splits, inits, priors)
    if not missing:
        return
    name = getattr(cfg, 'filename', None) or 'the config'
    lines = [f'{name} reads data that is not there:']
    for item in missing:
        lines.append(f'  {item.path}  ({item.what})')
        move = (f'set {item.variable} to its folder, or make it: '
                if item.variable else 'make it: ')
        lines.append(f'    {move}{item.hint}')
    lines.append('Nothing was run.')
    raise DataNotFoundError('\n'.join(lines))
