"""Shared fixtures: the real data beside the project and one real training
checkpoint that several tests reuse."""
from __future__ import annotations

import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import pytest

from mmssl_seg import compat

# the tests drive the library as our tools do (CPU DDP, mmcv's hue under
# NumPy 2); tests/test_compat.py checks the import alone in fresh processes
compat.install_runtime()

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# The real data sets: $MMSSL_DATA, else data/ in the project (the configs'
# default roots), else ../shared/data beside it.
DATA_ROOT = os.environ.get('MMSSL_DATA') or next(
    (d for d in (osp.join(REPO, 'data'),
                 osp.join(osp.dirname(REPO), 'shared', 'data'))
     if osp.isdir(d)), osp.join(REPO, 'data'))
VOC12_MINI = osp.join(DATA_ROOT, 'voc12_mini', 'VOCdevkit', 'VOC2012')
MINI_DEEPLAB = osp.join(
    REPO, 'configs/finetune/deeplabv3_r18-d8_1xb8-400_voc12mini-128x128.py')
MINI_PSPNET = osp.join(
    REPO, 'configs/finetune/pspnet_r18-d8_1xb8-400_voc12mini-128x128.py')

# Configs read these variables; absolute paths make tests independent of the
# working directory and of where the data sets live.
if osp.isdir(VOC12_MINI):
    os.environ.setdefault('VOC12_MINI_ROOT', VOC12_MINI)
if osp.isdir(osp.join(DATA_ROOT, 'bsds500')):
    os.environ.setdefault('BSDS_ROOT', osp.join(DATA_ROOT, 'bsds500'))
HORSES = osp.join(DATA_ROOT, 'weizmann_horse')
CAMVID = osp.join(DATA_ROOT, 'camvid')
if osp.isdir(CAMVID):
    os.environ.setdefault('CAMVID_ROOT', CAMVID)


def needs_voc12_mini() -> None:
    if not osp.isdir(VOC12_MINI):
        pytest.skip(f'real data not found: {VOC12_MINI} (set MMSSL_DATA, '
                    'or link the data sets to data/)')


#: cfg-options that make a mini config run a few iterations quickly.
def quick_options(iters: int = 2, val_images: int = 4) -> list[str]:
    return [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        f'val_dataloader.dataset.indices={val_images}',
    ]


def run_tool(*args: str, cwd: str = REPO, env: dict | None = None,
             timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a command with this interpreter's environment; return it with
    stdout and stderr merged into ``.stdout``."""
    full_env = dict(os.environ, **(env or {}))
    full_env['PYTHONPATH'] = REPO + os.pathsep + full_env.get('PYTHONPATH',
                                                             '')
    return subprocess.run(
        list(args), cwd=cwd, env=full_env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=timeout)


def readme_commands(readme: str, tool: str) -> list[list[str]]:
    """The arguments after ``python TOOL`` of every command of a README's
    code blocks (backslash continuations joined)."""
    import shlex
    text = open(readme).read().replace('\\\n', ' ')
    found = []
    for line in text.splitlines():
        if tool not in line or line.lstrip().startswith('#'):
            continue
        words = shlex.split(line.strip(), comments=True)
        if words[:2] == ['python', tool]:
            found.append(words[2:])
    return found


def run_killed(*args: str, watch: str, count: int,
               timeout: int = 600) -> None:
    """Start a command like :func:`run_tool` and SIGKILL it as soon as
    ``count`` files match the glob ``watch`` (its finished outputs): a kill
    in the middle of its work, with no chance to clean up."""
    import glob
    import time
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    proc = subprocess.Popen(list(args), cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    try:
        while len(glob.glob(watch)) < count:
            assert proc.poll() is None, (
                f'{args[1]} ended before it wrote {count} outputs')
            assert time.time() < deadline, f'{args[1]} took too long'
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope='session', autouse=True)
def model_cache(tmp_path_factory) -> Path:
    """The packaged forest's OpenCV file is built here, not in the user's
    ``~/.cache`` (tools started by the tests inherit the variable)."""
    cache = tmp_path_factory.mktemp('model_cache')
    os.environ['MMSSL_SEG_CACHE'] = str(cache)
    return cache


@pytest.fixture(scope='session')
def small_mosaics(tmp_path_factory) -> Path:
    """Three train and one val texture mosaic of 64x64, built once by the
    quick-start's tool (real photographs); tests only read them."""
    root = tmp_path_factory.mktemp('small_mosaics') / 'mosaics'
    result = run_tool(sys.executable, 'tools/make_texture_mosaics.py',
                      str(root), '--num-train', '3', '--num-val', '1',
                      '--size', '64')
    assert result.returncode == 0, result.stdout[-2000:]
    return root


@pytest.fixture(scope='session')
def mini_run(tmp_path_factory) -> dict:
    """A real 2-iteration DeepLabV3-R18 run on voc12_mini through
    ``tools/train.py``: its work_dir and final (full, non-tensor) checkpoint.
    """
    needs_voc12_mini()
    work_dir = str(tmp_path_factory.mktemp('mini_run'))
    result = run_tool(sys.executable, 'tools/train.py', MINI_DEEPLAB,
                      '--work-dir', work_dir, '--cfg-options',
                      *quick_options(2))
    assert result.returncode == 0, result.stdout[-3000:]
    checkpoint = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(checkpoint)
    return dict(work_dir=work_dir, checkpoint=checkpoint, log=result.stdout)
