"""The arguments the ``tools/eval/*.py`` command lines share (standard
library only: ``--help`` answers without importing torch or the plugin);
what they do with them is :mod:`mmssl_seg.evaluation.cli`."""
from __future__ import annotations

import argparse

#: The data config of the protocols unless ``--data`` names another.
DEFAULT_DATA = 'configs/_base_/datasets/voc12_mini.py'


def add_model_args(parser: argparse.ArgumentParser,
                   feature: str | None = 'backbone',
                   init_seed: bool = True) -> None:
    """The model's arguments; ``init_seed``: the tool builds the model with
    ``load_model_from_args`` (``--init-seed`` seeds a random init);
    ``feature=None``: the model's own default feature."""
    parser.add_argument('config', help='config of the model to evaluate '
                        '(MMSeg, MMPretrain or mmssl_seg)')
    parser.add_argument('checkpoint', help="its weights, or 'random' for the "
                        'random-init baseline')
    if init_seed:
        parser.add_argument('--init-seed', type=int, default=0,
                            help="seed of the random init (checkpoint "
                            "'random'): one draw, the same in every run")
    own = "the model's own: a pretraining algorithm's, else backbone"
    parser.add_argument('--feature', default=feature,
                        help='backbone, decoder or embedding (default: '
                        f'{feature or own})')
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
