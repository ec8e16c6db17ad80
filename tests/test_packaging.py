"""The plugin as an OpenMMLab package: installed non-editable and editable
(this environment's ``pip install -e .``), a downstream project inherits our
configs through ``mmssl_seg::`` and trains (with our packaged tools and with
MMSeg's own ``tools/train.py``); every config carries ``custom_imports``;
the metafiles list every config and mmengine reads them.
"""
from __future__ import annotations

import glob
import os
import os.path as osp
import subprocess
import sys

import mmseg
import pytest
import yaml

from tests.conftest import REPO, VOC12_MINI, needs_voc12_mini

METHODS = ('aux_contrast', 'hier_grouping', 'mask_contrast', 'mix_match')
MINI = 'mix_match/mix-match_vgg16-bn_1xb4-200_voc12mini-128x128.py'


def _configs() -> list[str]:
    return sorted(
        f for f in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                             recursive=True) if '_base_' not in f)


@pytest.mark.parametrize('path', _configs(),
                         ids=lambda p: osp.relpath(p, REPO))
def test_every_config_imports_the_plugin(path: str) -> None:
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(imports=['mmssl_seg'],
                                      allow_failed_imports=False)


@pytest.fixture(scope='module')
def installed(tmp_path_factory) -> str:
    """``pip install .`` (no dependencies: they are this venv's) into a
    folder that only PYTHONPATH points to."""
    target = str(tmp_path_factory.mktemp('site'))
    subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
         '--no-build-isolation', '--disable-pip-version-check', '--target',
         target, REPO], check=True, cwd=REPO, capture_output=True)
    return target


def _run_downstream(installed: str | None, cwd: str, *args: str):
    """Run in ``cwd`` with the copy installed in ``installed`` (None: this
    environment's own install)."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(VOC12_MINI_ROOT=VOC12_MINI)
    if installed:
        env.update(PYTHONPATH=installed)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_package_ships_configs_tools_and_metafiles(installed) -> None:
    mim = osp.join(installed, 'mmssl_seg', '.mim')
    for path in ('model-index.yml', 'tools/train.py', f'configs/{MINI}',
                 'configs/_base_/schedules/mini_cpu.py',
                 *(f'configs/{m}/metafile.yml' for m in METHODS)):
        assert osp.isfile(osp.join(mim, path)), path
        assert not osp.islink(osp.join(mim, path))  # copied, not linked
    # the structured edge forest make_hierarchies.py uses by default, the
    # bytes its metafile lists
    from mmssl_seg.priors.hierarchy.packaged import packaged_forest_entry
    from mmssl_seg.utils.io import sha256_of
    entry = packaged_forest_entry()
    models = osp.join(installed, 'mmssl_seg', 'priors', 'hierarchy',
                      'models')
    assert osp.isfile(osp.join(models, 'metafile.yml'))
    assert sha256_of(osp.join(models, entry['Weights'])) == entry['SHA256']
    # the Weizmann horses' fixed split, as in the checkout
    for split in ('train', 'val'):
        name = f'weizmann_horse_{split}.txt'
        shipped = osp.join(installed, 'mmssl_seg', 'datasets', 'splits', name)
        assert sha256_of(shipped) == sha256_of(
            osp.join(REPO, 'mmssl_seg', 'datasets', 'splits', name))
    # the evaluation suite is a development tool of the checkout
    assert not osp.exists(osp.join(installed, 'mmssl_seg', 'suite'))
    assert not osp.exists(osp.join(installed, 'benchmarks'))


QUICK = ['--cfg-options', 'train_cfg.max_iters=2',
         'default_hooks.checkpoint.interval=2',
         'default_hooks.logger.interval=1',
         'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False']


@pytest.mark.parametrize('runner', ['ours', 'mmseg'])
def test_downstream_project_inherits_and_trains(installed, tmp_path,
                                                runner: str) -> None:
    needs_voc12_mini()
    (tmp_path / 'my_config.py').write_text(
        f"_base_ = ['mmssl_seg::{MINI}']\n"
        "custom_imports = dict(imports=['mmssl_seg'], "
        'allow_failed_imports=False)\n')
    if runner == 'ours':  # the tools shipped in the package (as `mim train`)
        script = [osp.join(installed, 'mmssl_seg', '.mim', 'tools',
                           'train.py')]
    else:  # MMSeg's own script, with the plugin imported first
        script = ['-m', 'mmssl_seg.launch',
                  osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools',
                           'train.py')]
    result = _run_downstream(installed, str(tmp_path), *script,
                             'my_config.py', '--work-dir', 'work', *QUICK)
    assert result.returncode == 0, result.stdout[-3000:] + \
        result.stderr[-3000:]
    assert osp.isfile(tmp_path / 'work' / 'iter_2.pth')
    log = result.stdout + result.stderr
    assert 'loss_triplet' in log  # our MixMatch algorithm trained
    # the package that ran is the installed copy, not this checkout
    probe = _run_downstream(installed, str(tmp_path), '-c',
                            'import mmssl_seg; print(mmssl_seg.__file__)')
    assert probe.stdout.strip().startswith(installed)


def test_editable_install_inherits_and_trains(tmp_path) -> None:
    """``pip install -e .`` (what ``make`` builds and the README suggests):
    mmengine looks for ``.mim`` under site-packages, the package lives in the
    checkout; ``mmssl_seg::`` still resolves and the downstream config
    trains, with MMSeg's own ``tools/train.py``."""
    needs_voc12_mini()
    probe = _run_downstream(None, str(tmp_path), '-c', (
        'import importlib.metadata as m, mmssl_seg; '
        'print(mmssl_seg.__file__); '
        "print(m.distribution('mmssl_seg').locate_file(''))"))
    package, location = probe.stdout.split()[-2:]
    if not package.startswith(REPO) or osp.realpath(location) == \
            osp.realpath(REPO):
        pytest.skip('this environment installed mmssl_seg non-editable '
                    '(make env installs it editable)')
    (tmp_path / 'my_config.py').write_text(
        f"_base_ = ['mmssl_seg::{MINI}']\n"
        "custom_imports = dict(imports=['mmssl_seg'], "
        'allow_failed_imports=False)\n')
    script = ['-m', 'mmssl_seg.launch',
              osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools',
                       'train.py')]
    result = _run_downstream(None, str(tmp_path), *script, 'my_config.py',
                             '--work-dir', 'work', *QUICK)
    assert result.returncode == 0, result.stdout[-3000:] + \
        result.stderr[-3000:]
    assert osp.isfile(tmp_path / 'work' / 'iter_2.pth')
    assert 'loss_triplet' in result.stdout + result.stderr


def test_launch_without_a_script_prints_its_usage() -> None:
    result = subprocess.run([sys.executable, '-m', 'mmssl_seg.launch'],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert 'python -m mmssl_seg.launch' in result.stdout


def _metafile_models() -> dict[str, dict]:
    index = yaml.safe_load(open(osp.join(REPO, 'model-index.yml')))
    assert sorted(index['Import']) == [
        f'configs/{m}/metafile.yml' for m in METHODS]
    models = {}
    for path in index['Import']:
        meta = yaml.safe_load(open(osp.join(REPO, path)))
        (collection, ) = meta['Collections']
        assert {'Title', 'URL', 'Venue'} <= set(collection['Paper'])
        for model in meta['Models']:
            assert model['In Collection'] == collection['Name']
            models[model['Config']] = model
    return models


def test_metafiles_list_every_method_config_with_honest_results() -> None:
    models = _metafile_models()
    for method in METHODS:
        listed = {c for c in models if c.startswith(f'configs/{method}/')}
        shipped = {osp.relpath(p, REPO) for p in glob.glob(
            osp.join(REPO, 'configs', method, '*.py'))}
        assert listed == shipped, method
    for config, model in models.items():
        assert osp.basename(config)[:-3] == model['Name']
        measured_here = False
        for result in model.get('Results', []):
            source = result['Source']
            assert source.startswith(('paper, ', 'measured here')), source
            assert result['Metrics'] and all(
                isinstance(v, (int, float))
                for v in result['Metrics'].values())
            measured_here |= source.startswith('measured here')
        if measured_here:  # our numbers say on what and how long
            assert 'Training Resources' in model['Metadata'], config
        assert 'Weights' not in model  # no checkpoint is published


def test_mmengine_reads_the_metafiles(installed) -> None:
    config = ('mask_contrast/'
              'mask-contrast_r50-d8_4xb16-60e_voc12aug-224x224_unsup-sal.py')
    code = ('import mmssl_seg, mmengine.hub as hub\n'
            'from mmengine.config.utils import _get_cfg_metainfo\n'
            'from mmengine.utils import get_installed_path\n'
            f'meta = _get_cfg_metainfo(get_installed_path("mmssl_seg"), '
            f'"{config}")\n'
            'metrics = meta["Results"][0]["Metrics"]\n'
            'print("=", metrics["mIoU (linear probe)"])\n'
            f'print("=", hub.get_config("mmssl_seg::{config}").model.type)\n')
    result = _run_downstream(installed, REPO, '-c', code)
    assert result.returncode == 0, result.stderr[-2000:]
    printed = [line[2:] for line in result.stdout.splitlines()
               if line.startswith('= ')]  # (mmengine logs in between)
    assert printed == ['58.4', 'MaskContrast']
