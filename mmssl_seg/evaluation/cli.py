"""What the ``tools/eval/*.py`` command lines do with the arguments they
share (``tools/eval/_eval_args.py`` defines them): the model to evaluate,
claiming the output, provenance and the report at the end."""
from __future__ import annotations

import argparse
import json
import os.path as osp
import time
from typing import Any, Mapping

from mmssl_seg.evaluation.report import write_report


def checkpoint_arg(value: str) -> str | None:
    return None if value.lower() in ('random', 'none') else value


def load_model_from_args(args: argparse.Namespace):
    """The model of ``args.config`` with ``args.checkpoint``; every weight
    that computes ``args.feature`` must come from the checkpoint (unless
    ``--allow-missing`` names it). No ``--feature``: the model's
    ``default_feature`` (a pretraining algorithm's embedding), else the
    backbone's."""
    from mmssl_seg.checkpoint.loading import load_model
    from mmssl_seg.models.builder import build_model
    if getattr(args, 'feature', None) is None:  # the method's own features
        args.feature = getattr(build_model(args.config), 'default_feature',
                               'backbone')
    if checkpoint_arg(args.checkpoint) is None:
        # unseeded, each process drew another init (mmengine seeds torch
        # at random): random init's K-means, retrieval and DAVIS moved
        # from run to run (DAVIS J of one backbone: 18.9 and 26.6)
        from mmengine.runner import set_random_seed
        set_random_seed(args.init_seed)
    return load_model(args.config, checkpoint_arg(args.checkpoint),
                      kind=args.feature, allow_missing=args.allow_missing)


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
    from mmssl_seg.utils.io import sha256_of
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
