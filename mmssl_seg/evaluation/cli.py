"""What the ``tools/eval/*.py`` command lines share: the model to evaluate,
the data, the feature, and the report at the end."""
from __future__ import annotations

import argparse
import json
import os.path as osp
import time
from typing import Any, Mapping

from mmssl_seg.evaluation.report import write_report

DEFAULT_DATA = 'configs/_base_/datasets/voc12_mini.py'


def add_model_args(parser: argparse.ArgumentParser,
                   feature: str = 'backbone',
                   init_seed: bool = True) -> None:
    """The model's arguments; ``init_seed``: the tool builds the model with
    :func:`load_model_from_args` (``--init-seed`` seeds a random init)."""
    parser.add_argument('config', help='config of the model to evaluate '
                        '(MMSeg, MMPretrain or mmssl_seg)')
    parser.add_argument('checkpoint', help="its weights, or 'random' for the "
                        'random-init baseline')
    if init_seed:
        parser.add_argument('--init-seed', type=int, default=0,
                            help="seed of the random init (checkpoint "
                            "'random'): one draw, the same in every run")
    parser.add_argument('--feature', default=feature,
                        help='backbone, decoder or embedding')
    parser.add_argument('--in-index', type=int, default=-1,
                        help='backbone stage (for --feature backbone)')
    parser.add_argument('--allow-missing', nargs='*', default=[],
                        metavar='REGEX',
                        help='keys the checkpoint may leave at random init, '
                        'e.g. a stage after --in-index that the method never '
                        'trains (default: every key of the evaluated parts '
                        'must be filled)')
    parser.add_argument('--out-dir', default='work_dirs/eval',
                        help='where the JSON and Markdown results go')
    parser.add_argument('--overwrite', action='store_true',
                        help="replace this protocol's result in --out-dir "
                        '(default: refuse)')


def add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--data', default=DEFAULT_DATA,
                        help='dataset config (its test pipeline is used)')
    parser.add_argument('--limit', type=int, default=None,
                        help='use only the first N images of each split')


def checkpoint_arg(value: str) -> str | None:
    return None if value.lower() in ('random', 'none') else value


def load_model_from_args(args: argparse.Namespace):
    """The model of ``args.config`` with ``args.checkpoint``; every weight
    that computes ``args.feature`` must come from the checkpoint (unless
    ``--allow-missing`` names it)."""
    from mmssl_seg.models.builder import IncompleteWeightsError, load_model
    if checkpoint_arg(args.checkpoint) is None:
        # unseeded, each process drew another init (mmengine seeds torch
        # at random): random init's K-means, retrieval and DAVIS moved
        # from run to run (DAVIS J of one backbone: 18.9 and 26.6)
        from mmengine.runner import set_random_seed
        set_random_seed(args.init_seed)
    try:
        return load_model(args.config, checkpoint_arg(args.checkpoint),
                          kind=args.feature, allow_missing=args.allow_missing)
    except (IncompleteWeightsError, ValueError) as error:
        raise SystemExit(f'error: {error}') from None


def claim_output(args: argparse.Namespace, protocol: str) -> None:
    """Stop before any work when ``--out-dir`` already holds this protocol's
    result (unless ``--overwrite``): a second run never silently replaces
    the first."""
    path = osp.join(args.out_dir, f'{protocol}.json')
    if osp.isfile(path) and not getattr(args, 'overwrite', False):
        try:
            with open(path) as f:
                old = json.load(f)
            what = (f' (config {old.get("config")}, checkpoint '
                    f'{old.get("checkpoint")}, feature {old.get("feature")})')
        except (OSError, ValueError):
            what = ''
        raise SystemExit(f'{path} already holds a {protocol} result{what}; '
                         'pass --overwrite to replace it or choose another '
                         '--out-dir')


def provenance(args: argparse.Namespace) -> dict:
    """What a result was computed from: config, checkpoint (path and
    sha256), feature, stage and allowed gaps."""
    from mmssl_seg.utils.checkpoint import sha256_of
    checkpoint = getattr(args, 'checkpoint', None)
    random = checkpoint is None or checkpoint_arg(checkpoint) is None
    return {
        'config': getattr(args, 'config', None),
        'checkpoint': 'random' if random else checkpoint,
        'checkpoint_sha256': None if random else sha256_of(checkpoint),
        'init_seed': getattr(args, 'init_seed', None) if random else None,
        'feature': getattr(args, 'feature', None),
        'in_index': getattr(args, 'in_index', None),
        'allow_missing': list(getattr(args, 'allow_missing', []) or []),
    }


def finish(args: argparse.Namespace, protocol: str, result: dict,
           numbers: Mapping[str, Any], start: float) -> None:
    """Write the JSON and the Markdown row (config, checkpoint, feature,
    seeds, wall time and ``numbers``) and print the row."""
    seconds = time.time() - start
    result = dict(result, wall_seconds=round(seconds, 1), **provenance(args))
    result.setdefault('seeds', [])
    row = {'config': osp.basename(args.config),
           'checkpoint': args.checkpoint,
           'feature': getattr(args, 'feature', '-')}
    row.update(numbers)
    row['seeds'] = ' '.join(str(s) for s in result.get('seeds', [])) or '-'
    row['wall time'] = f'{seconds:.0f} s'
    path = write_report(args.out_dir, protocol, result, row)
    print('| ' + ' | '.join(row) + ' |')
    print('| ' + ' | '.join(str(v) if not isinstance(v, float) else
                            f'{v:.2f}' for v in row.values()) + ' |')
    print(f'wrote {path}')
