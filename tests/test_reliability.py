"""Nothing wrong passes silently: prior tools never mix parameters, name bad
images and go on, write files others can read."""
from __future__ import annotations

import json
import os
import os.path as osp
import shutil
import stat
import sys

import cv2
import numpy as np
import pytest

from mmssl_seg.priors.manifest import list_images
from mmssl_seg.priors.saliency import make_saliency
from mmssl_seg.utils.io import FILE_MODE, ImageReadError, read_image
from tests.conftest import REPO, VOC12_MINI, needs_voc12_mini, run_tool


def _voc_images(tmp_path, n: int = 3) -> str:
    """A folder of ``n`` real VOC images plus a truncated JPEG and a text
    file named .png."""
    needs_voc12_mini()
    folder = tmp_path / 'images'
    folder.mkdir()
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()[:n + 1]
    for stem in ids[:n]:
        shutil.copy(osp.join(VOC12_MINI, 'JPEGImages', stem + '.jpg'),
                    folder / (stem + '.jpg'))
    data = open(osp.join(VOC12_MINI, 'JPEGImages', ids[n] + '.jpg'),
                'rb').read()
    (folder / 'truncated.jpg').write_bytes(data[:len(data) // 2])
    (folder / 'notes.png').write_text('not an image')
    return str(folder)


def test_read_image_says_what_is_wrong(tmp_path):
    folder = _voc_images(tmp_path, 1)
    with pytest.raises(ImageReadError, match='truncated JPEG: .*truncated'):
        read_image(osp.join(folder, 'truncated.jpg'))
    with pytest.raises(ImageReadError, match='not a readable image: .*notes'):
        read_image(osp.join(folder, 'notes.png'))
    with pytest.raises(ImageReadError, match='image missing: .*nothing'):
        read_image(osp.join(folder, 'nothing.jpg'))


def test_prior_tools_skip_bad_images_list_them_and_exit_1(tmp_path):
    folder = _voc_images(tmp_path)
    out = tmp_path / 'hier'
    result = run_tool(sys.executable, 'tools/priors/make_hierarchies.py',
                      str(out), '--images', folder, '--edges',
                      'colour_gradient', '--workers', '1', '--picture', '2')
    assert result.returncode == 1
    assert '2 image(s) could not be processed' in result.stdout
    assert 'truncated JPEG' in result.stdout and 'notes' in result.stdout
    manifest = json.load(open(out / 'manifest.json'))
    assert set(manifest['failed']) == {'truncated', 'notes'}
    ids = open(out / 'ids.txt').read().split()
    assert len(ids) == 3 and 'truncated' not in ids
    assert all(osp.isfile(out / 'trees' / f'{s}.npz') for s in ids)
    strict = run_tool(sys.executable, 'tools/priors/make_hierarchies.py',
                      str(tmp_path / 'strict'), '--images', folder,
                      '--edges', 'colour_gradient', '--workers', '1',
                      '--strict')
    assert strict.returncode == 1 and 'Traceback' not in strict.stdout
    assert 'error: not a readable image' in strict.stdout or (
        'error: truncated JPEG' in strict.stdout)
    # saliency: skipped and listed too
    sal = make_saliency(list_images(folder), str(tmp_path / 'sal'), 'rbd')
    assert set(sal['failed']) == {'truncated', 'notes'}
    assert sal['kept'] + sal['dropped'] == 3


def test_empty_folder_is_named(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='empty'):
        list_images(str(tmp_path / 'empty'))


def test_a_rerun_with_other_parameters_is_refused_at_any_stage(tmp_path):
    """The parameters are written before any output: an interrupted run
    (no manifest yet) still refuses another method in its folder."""
    folder = _voc_images(tmp_path, 2)
    images = [i for i in list_images(folder) if i[0] not in
              ('truncated', 'notes')]
    out = str(tmp_path / 'sal')
    make_saliency(images[:1], out, 'rbd')
    for path in os.listdir(out):  # as if killed before any manifest write
        if path.startswith('manifest'):
            os.remove(osp.join(out, path))
    with pytest.raises(ValueError, match='other parameters'):
        make_saliency(images, out, 'spectral_residual')
    assert len(os.listdir(osp.join(out, 'soft'))) == 1


def test_aux_label_fit_is_not_reused_by_another_extractor(tmp_path):
    from mmssl_seg.priors.aux_labels import make_aux_labels
    from tests.test_aux_labels import colour_features
    folder = _voc_images(tmp_path, 2)
    images = [i for i in list_images(folder) if i[0] not in
              ('truncated', 'notes')]
    out = str(tmp_path / 'aux')
    make_aux_labels(images, out, colour_features, {'name': 'lab'}, k=3,
                    stage='fit')
    with pytest.raises(ValueError, match='other parameters'):
        make_aux_labels(images, out, colour_features, {'name': 'other'}, k=3)
    assert not osp.isdir(osp.join(out, 'labels'))


def test_outputs_are_readable_by_others(tmp_path):
    """Atomic writes respect the umask (0644 under 022), not mkstemp's 0600:
    masks, trees, manifests and extracted weights."""
    from mmssl_seg.utils.io import atomic_path, write_json
    umask = os.umask(0o022)
    os.umask(umask)
    assert FILE_MODE == 0o666 & ~umask  # 0o644 under the usual 022
    path = str(tmp_path / 'x.json')
    write_json(path, {'a': 1})
    assert stat.S_IMODE(os.stat(path).st_mode) == FILE_MODE
    with atomic_path(str(tmp_path / 'mask.png')) as tmp:
        cv2.imwrite(tmp, np.zeros((4, 4), np.uint8))
    assert stat.S_IMODE(os.stat(tmp_path / 'mask.png').st_mode) == FILE_MODE
    from mmssl_seg.checkpoint.io import save_tensors_only
    save_tensors_only({}, str(tmp_path / 'w.pth'))
    assert stat.S_IMODE(os.stat(tmp_path / 'w.pth').st_mode) == FILE_MODE


# --------------------------------------------------------------------------- #
# checkpoints survive a kill
# --------------------------------------------------------------------------- #
class _Killed(BaseException):
    pass


class _FakeRunner:
    """What CheckpointHook uses of a Runner; ``die_at`` kills the save of
    that step halfway through writing."""

    def __init__(self, work_dir: str, die_at: int | None = None) -> None:
        from mmengine.logging import MessageHub
        self.work_dir = work_dir
        self.die_at = die_at
        self.message_hub = MessageHub.get_instance(f'reliability-{work_dir}')
        self.iter = 0

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        import torch
        path = osp.join(out_dir, filename)
        torch.save({'state_dict': {'w': torch.full((1000, ), self.iter)}},
                   path)
        if self.iter + 1 == self.die_at:
            with open(path, 'r+b') as f:
                f.truncate(os.path.getsize(path) // 2)
            raise _Killed


def _save(hook, runner, step):
    runner.iter = step - 1
    hook._save_checkpoint_with_step(runner, step, dict(iter=step))


def test_a_kill_while_saving_keeps_the_last_complete_checkpoint(tmp_path):
    from mmseg.registry import HOOKS

    from mmssl_seg.engine.hooks import AtomicCheckpointHook
    from mmssl_seg.engine.runner import resume_checkpoint
    # our tools put it in place of the stock hook (tests/test_compat.py)
    assert HOOKS.get('AtomicCheckpointHook') is AtomicCheckpointHook
    work = str(tmp_path)
    runner = _FakeRunner(work, die_at=5)
    hook = AtomicCheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1)
    hook.out_dir = work
    from collections import deque

    from mmengine.fileio import LocalBackend
    hook.file_backend, hook.keep_ckpt_ids = LocalBackend(), deque([], 1)
    for step in (3, 4):
        _save(hook, runner, step)
    with pytest.raises(_Killed):
        _save(hook, runner, 5)
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == [
        'iter_4.pth']  # the old one was not removed before the new one
    assert open(osp.join(work, 'last_checkpoint')).read() == osp.join(
        work, 'iter_4.pth')
    assert resume_checkpoint(work) == osp.join(work, 'iter_4.pth')
    # a last_checkpoint naming a cut or deleted file: the newest complete
    with open(osp.join(work, 'iter_6.pth'), 'wb') as f:
        f.write(b'PK\x03\x04 cut short')
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, 'iter_6.pth'))
    assert resume_checkpoint(work) == osp.join(work, 'iter_4.pth')
    os.remove(osp.join(work, 'iter_6.pth'))
    assert resume_checkpoint(work) == osp.join(work, 'iter_4.pth')


def test_max_iters_keeps_what_the_user_set(tmp_path):
    from mmengine.config import Config

    from mmssl_seg.engine.runner import rescale_schedule
    from tests.conftest import MINI_DEEPLAB
    cfg = Config.fromfile(MINI_DEEPLAB)
    cfg.merge_from_dict({'default_hooks.checkpoint.interval': 2})
    rescale_schedule(cfg, 8, keep=['default_hooks.checkpoint.interval'])
    assert cfg.default_hooks.checkpoint.interval == 2
    assert cfg.train_cfg.max_iters == 8
    assert cfg.param_scheduler[0]['end'] == 8  # the schedule still scales
    plain = Config.fromfile(MINI_DEEPLAB)
    rescale_schedule(plain, 8)
    assert plain.default_hooks.checkpoint.interval == 4  # 400 // 2 scaled


# --------------------------------------------------------------------------- #
# bad prior files are named when a run starts, all at once
# --------------------------------------------------------------------------- #
def test_bad_prior_files_stop_the_run_before_the_first_iteration(tmp_path):
    from PIL import Image
    needs_voc12_mini()
    masks = tmp_path / 'sal' / 'masks'
    masks.mkdir(parents=True)
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()[:6]
    for stem in ids:
        gt = np.array(Image.open(osp.join(VOC12_MINI, 'SegmentationClass',
                                          stem + '.png')))
        cv2.imwrite(str(masks / (stem + '.png')),
                    ((gt > 0) & (gt < 255)).astype(np.uint8) * 255)
    os.remove(masks / (ids[1] + '.png'))
    cv2.imwrite(str(masks / (ids[2] + '.png')), np.zeros((5, 5), np.uint8))
    (masks / (ids[3] + '.png')).write_text('garbage')
    (tmp_path / 'sal' / 'kept_train.txt').write_text('\n'.join(ids))
    config = ('configs/mask_contrast/'
              'mask-contrast_r18-d8_1xb16-500_voc12mini-96x96.py')
    result = run_tool(sys.executable, 'tools/train.py', config, '--work-dir',
                      str(tmp_path / 'work'), '--cfg-options',
                      'train_cfg.max_iters=1', 'train_dataloader.batch_size=2',
                      'train_dataloader.num_workers=0',
                      'train_dataloader.persistent_workers=False',
                      env=dict(SALIENCY_DIR=str(tmp_path / 'sal')))
    assert result.returncode != 0
    assert '3 problem(s) with the prior files' in result.stdout
    for stem in ids[1:4]:
        assert stem in result.stdout
    assert 'is (5, 5)' in result.stdout
    assert 'Iter(train)' not in result.stdout


def test_a_truncated_tree_names_its_file(tmp_path):
    from mmssl_seg.structures import RegionTree
    from tests.test_hier_grouping import hand_tree
    path = str(tmp_path / 'x.npz')
    hand_tree().save(path)
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 2])
    with pytest.raises(ValueError, match='x.npz'):
        RegionTree.load(path)


# --------------------------------------------------------------------------- #
# checkpoint files that are cut short, old or not checkpoints at all
# --------------------------------------------------------------------------- #
def test_checkpoint_readers_name_the_file_and_what_is_wrong(tmp_path):
    import argparse

    import torch

    from mmssl_seg.checkpoint.io import CheckpointReadError, read_checkpoint
    full = str(tmp_path / 'full.pth')
    torch.save({'state_dict': {'w': torch.ones(30000)}}, full)
    data = open(full, 'rb').read()
    cut = str(tmp_path / 'cut.pth')
    open(cut, 'wb').write(data[:len(data) // 2])
    with pytest.raises(CheckpointReadError, match='cut.pth is incomplete'):
        read_checkpoint(cut)
    text = str(tmp_path / 'notes.pth')
    open(text, 'w').write('hello')
    with pytest.raises(CheckpointReadError, match='notes.pth is not a torch'):
        read_checkpoint(text)
    # the legacy (pre-1.6) format with harmless non-tensor objects loads
    legacy = str(tmp_path / 'legacy.pth')
    torch.save({'state_dict': {'w': torch.arange(3.)}, 'epoch': np.int64(3),
                'args': argparse.Namespace(lr=0.1)}, legacy,
               _use_new_zipfile_serialization=False)
    loaded = read_checkpoint(legacy)
    assert torch.equal(loaded['state_dict']['w'], torch.arange(3.))
    assert 'not loaded' in repr(loaded['args'])  # an inert placeholder


def test_converter_cli_names_a_cut_file_without_a_traceback(tmp_path):
    import torch
    full = str(tmp_path / 'full.pth')
    torch.save({'state_dict': {'backbone.w': torch.ones(30000)}}, full)
    data = open(full, 'rb').read()
    open(tmp_path / 'cut.pth', 'wb').write(data[:len(data) // 2])
    result = run_tool(sys.executable,
                      'tools/model_converters/extract_pretrained.py',
                      str(tmp_path / 'cut.pth'), str(tmp_path / 'out.pth'),
                      '--target', 'configs/finetune/deeplabv3_r18-d8_1xb8-'
                      '400_voc12mini-128x128.py')
    assert result.returncode == 1
    assert 'cut.pth is incomplete' in result.stdout
    assert 'Traceback' not in result.stdout
    assert not osp.exists(tmp_path / 'out.pth')


def test_a_finished_run_stops_its_dataloader_workers(tmp_path):
    """Persistent workers left to the garbage collector cost a later run
    5 s per worker; the runner stops them when train / test return."""
    needs_voc12_mini()
    import multiprocessing

    from mmssl_seg.engine.runner import build_runner, load_config
    from tests.conftest import MINI_DEEPLAB
    before = set(multiprocessing.active_children())
    options = {
        'train_cfg.max_iters': 1, 'train_cfg.val_interval': 1,
        'default_hooks.checkpoint.interval': 1,
        'train_dataloader.batch_size': 2}
    for split in ('train', 'val', 'test'):
        if split != 'train':
            options[f'{split}_dataloader.dataset.indices'] = 2
        options[f'{split}_dataloader.num_workers'] = 1
        options[f'{split}_dataloader.persistent_workers'] = True
    runner = build_runner(load_config(MINI_DEEPLAB, str(tmp_path), options))
    runner.train()
    loaders = [runner.train_loop.dataloader, runner.val_loop.dataloader]
    assert all(loader._iterator is None for loader in loaders)
    assert set(multiprocessing.active_children()) == before
    runner.test()
    assert runner.test_loop.dataloader._iterator is None
    assert set(multiprocessing.active_children()) == before


# --------------------------------------------------------------------------- #
# prior tools: a kill at any moment, then a rerun, gives the uninterrupted
# run's outputs; a degenerate output is an error
# --------------------------------------------------------------------------- #
def _small_voc_images(tmp_path, n: int, width: int = 160) -> str:
    """``n`` real VOC train images, downsized to ``width`` pixels."""
    needs_voc12_mini()
    folder = tmp_path / f'voc_{n}_{width}'
    folder.mkdir()
    ids = open(osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
               ).read().split()[:n]
    for stem in ids:
        image = cv2.imread(osp.join(VOC12_MINI, 'JPEGImages', stem + '.jpg'))
        height = round(image.shape[0] * width / image.shape[1])
        cv2.imwrite(str(folder / f'{stem}.png'),
                    cv2.resize(image, (width, height),
                               interpolation=cv2.INTER_AREA))
    return str(folder)


def _same_files(a: str, b: str, pattern: str) -> list[str]:
    import filecmp
    import glob
    names = sorted(osp.relpath(p, a) for p in glob.glob(osp.join(a,
                                                                 pattern)))
    assert names == sorted(osp.relpath(p, b)
                           for p in glob.glob(osp.join(b, pattern)))
    assert all(filecmp.cmp(osp.join(a, n), osp.join(b, n), shallow=False)
               for n in names)
    return names


def test_random_extractor_labels_survive_a_kill_exactly(tmp_path):
    """make_aux_labels.py with the `random` extractor (the README's demo
    command): two fresh runs fit the same centres (the network is seeded by
    --seed), and a run killed while labelling, then rerun, writes the label
    maps of an uninterrupted run byte for byte."""
    from tests.conftest import run_killed
    images = _small_voc_images(tmp_path, 16)
    argv = (sys.executable, 'tools/priors/make_aux_labels.py')
    options = ('configs/demo/pspnet_r18-d8_1xb8-120_mosaic-64x64.py',
               'random', '--num-classes', '6', '--scales', '1', '2',
               '--images', images, '--picture', '0')
    whole = str(tmp_path / 'whole')
    result = run_tool(*argv, whole, *options)
    assert result.returncode == 0, result.stdout[-2000:]
    killed = str(tmp_path / 'killed')
    run_killed(*argv, killed, *options, count=7,
               watch=osp.join(killed, 'labels', '*.png'))
    assert 7 <= len(os.listdir(osp.join(killed, 'labels'))) < 16
    result = run_tool(*argv, killed, *options)
    assert result.returncode == 0, result.stdout[-2000:]
    with np.load(osp.join(whole, 'centres.npz')) as a, \
            np.load(osp.join(killed, 'centres.npz')) as b:
        np.testing.assert_array_equal(a['centres'], b['centres'])
    assert len(_same_files(whole, killed, 'labels/*.png')) == 16
    assert len(_same_files(whole, killed, 'superpixels/*.png')) == 16
    manifest = json.load(open(osp.join(killed, 'manifest.json')))
    assert len(manifest['entries']) == 16
    unlabelled = np.mean([e['unlabelled'] for e in
                          manifest['entries'].values()])
    assert unlabelled < 0.05


def test_labels_from_centres_of_another_extractor_are_refused(tmp_path):
    """The old failure: centres fitted on one network's features, images
    labelled with another's. Every pixel falls beyond the drop threshold;
    the tool ends in an error instead of reporting the images labelled."""
    import torch

    from mmssl_seg.checkpoint.loading import load_model
    from mmssl_seg.priors.aux_labels import (
        MultiScaleExtractor,
        make_aux_labels,
    )
    from mmssl_seg.utils.errors import DegeneratePriorError
    images = list_images(_small_voc_images(tmp_path, 4))
    config = 'configs/demo/pspnet_r18-d8_1xb8-120_mosaic-64x64.py'

    def random_network(seed: int) -> MultiScaleExtractor:
        torch.manual_seed(seed)
        return MultiScaleExtractor(load_model(config, None), scales=[1])

    out = str(tmp_path / 'aux')
    desc = {'config': config, 'checkpoint': 'random'}  # the old record
    make_aux_labels(images, out, random_network(0), desc, k=6, stage='fit')
    with pytest.raises(DegeneratePriorError, match='carry no auxiliary'):
        make_aux_labels(images, out, random_network(1), desc, k=6)
    fine = make_aux_labels(images, str(tmp_path / 'new'), random_network(0),
                           desc, k=6)
    assert max(e['unlabelled'] for e in fine['entries'].values()) < 0.5


def test_hierarchies_survive_a_kill_exactly(tmp_path):
    """A run killed after some trees, then rerun, lists every image in
    ids.txt (what training reads) and writes the uninterrupted run's
    trees."""
    from tests.conftest import run_killed
    images = _small_voc_images(tmp_path, 40, width=120)
    argv = (sys.executable, 'tools/priors/make_hierarchies.py')
    options = ('--images', images, '--edges', 'colour_gradient',
               '--workers', '1', '--picture', '0')
    whole = str(tmp_path / 'whole')
    result = run_tool(*argv, whole, *options)
    assert result.returncode == 0, result.stdout[-2000:]
    killed = str(tmp_path / 'killed')
    run_killed(*argv, killed, *options, count=15,
               watch=osp.join(killed, 'trees', '*.npz'))
    assert 15 <= len(os.listdir(osp.join(killed, 'trees'))) < 40
    for _ in range(2):  # a further rerun changes nothing
        result = run_tool(*argv, killed, *options)
        assert result.returncode == 0, result.stdout[-2000:]
        assert open(osp.join(killed, 'ids.txt')).read() == open(
            osp.join(whole, 'ids.txt')).read()
    assert len(open(osp.join(killed, 'ids.txt')).read().split()) == 40
    assert len(_same_files(whole, killed, 'trees/*.npz')) == 40
    assert len(_same_files(whole, killed, 'ucm2/*.png')) == 40


def test_an_unlisted_image_is_an_error(tmp_path):
    from mmssl_seg.priors.hierarchy.generate import check_hierarchies
    from mmssl_seg.utils.errors import DegeneratePriorError
    merged = {'entries': {'a': {'leaves': 5}, 'b': {'failed': 'truncated'}},
              'complete': True}
    check_hierarchies(merged, ['a', 'b'])
    with pytest.raises(DegeneratePriorError, match='1 of 3 images'):
        check_hierarchies(merged, ['a', 'b', 'c'])
    single = {'entries': {'a': {'leaves': 1}}, 'complete': False}
    check_hierarchies(single, ['a'])  # other shards may still find regions
    with pytest.raises(DegeneratePriorError, match='single region'):
        check_hierarchies(dict(single, complete=True), ['a'])


def test_all_ignore_auxiliary_labels_stop_the_run(tmp_path):
    """A label map that leaves every pixel unlabelled is a prior problem
    named at the start of a run, not a zero loss for the whole run."""
    from mmssl_seg.datasets.transforms import LoadAuxLabels
    images = list_images(_small_voc_images(tmp_path, 2))
    root = tmp_path / 'aux'
    for stem, path in images:
        shape = cv2.imread(path).shape[:2]
        labels = np.full(shape, 255, np.uint8)
        if stem == images[0][0]:
            labels[:4, :4] = 1
        for kind, value in (('labels', labels),
                            ('superpixels', np.zeros(shape, np.uint16))):
            (root / kind).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / kind / f'{stem}.png'), value)
    loader = LoadAuxLabels(str(root))
    (first, path0), (second, path1) = images
    assert loader.check_prior(path0, cv2.imread(path0).shape[:2]) is None
    problem = loader.check_prior(path1, cv2.imread(path1).shape[:2])
    assert f'labels/{second}.png leave every pixel' in problem


# --------------------------------------------------------------------------- #
# the first hour: arguments, missing data, bad checkpoints, --help
# --------------------------------------------------------------------------- #
MINI_DEEPLAB_PATH = ('configs/finetune/'
                     'deeplabv3_r18-d8_1xb8-400_voc12mini-128x128.py')


def _tool(path: str):
    """A tool script as a module (its parse_args and main)."""
    import importlib.util
    full = osp.join(REPO, path)
    sys.path.insert(0, osp.dirname(full))  # for tools/eval/_eval_args.py
    try:
        spec = importlib.util.spec_from_file_location(
            'tool_' + osp.basename(path)[:-3], full)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(osp.dirname(full))
    return module


@pytest.mark.parametrize('value', ['0', '-3', 'x'])
def test_max_iters_must_be_a_positive_integer(value, capsys):
    with pytest.raises(SystemExit) as stop:
        _tool('tools/train.py').parse_args(
            [MINI_DEEPLAB_PATH, '--max-iters', value])
    assert stop.value.code == 2
    assert '--max-iters' in capsys.readouterr().err


def test_a_bad_saliency_method_writes_nothing(tmp_path, capsys):
    from mmssl_seg.priors.saliency import make_saliency
    from mmssl_seg.utils.errors import ArgumentError
    folder = _small_voc_images(tmp_path, 1)
    out = tmp_path / 'sal'
    with pytest.raises(SystemExit):
        _tool('tools/priors/make_saliency.py').main(
            [str(out), '--images', folder, '--method', 'rbdd'])
    assert 'invalid choice' in capsys.readouterr().err
    with pytest.raises(ArgumentError, match='unknown saliency method'):
        make_saliency(list_images(folder), str(out), 'rbdd')
    assert not out.exists()
    make_saliency(list_images(folder), str(out), 'rbd')  # then the right one


def test_missing_data_is_one_line(tmp_path, monkeypatch):
    """Without the data a config reads, the evaluation and prior tools stop
    with the message train.py gives: the path and what makes it."""
    monkeypatch.setenv('VOC12_MINI_ROOT', str(tmp_path / 'no_voc'))
    data = 'configs/_base_/datasets/voc12_mini.py'
    calls = {
        'tools/eval/kmeans.py': [MINI_DEEPLAB_PATH, 'random', '--data', data,
                                 '--out-dir', str(tmp_path / 'k')],
        'tools/eval/linear_probe.py': [
            MINI_DEEPLAB_PATH, 'random', '--feature', 'backbone',
            '--out-dir', str(tmp_path / 'p'), '--work-dir',
            str(tmp_path / 'pw')],
        'tools/priors/make_saliency.py': [str(tmp_path / 's'), '--data',
                                          data],
    }
    for tool, argv in calls.items():
        with pytest.raises(SystemExit) as stop:
            _tool(tool).main(argv)
        message = str(stop.value)
        assert message.startswith('error: ') and 'no_voc' in message, tool
        assert 'VOC12_MINI_ROOT' in message, tool


def test_evaluation_tools_refuse_bad_checkpoints_in_one_line(tmp_path,
                                                             mini_run):
    """Every evaluation tool, for a missing, empty, truncated or foreign
    checkpoint: one line that names the file and what is wrong, before any
    work (4 cases x 4 tools)."""
    import torch
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    data = open(mini_run['checkpoint'], 'rb').read()
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(data[:len(data) // 2])
    foreign = tmp_path / 'foreign.pth'
    torch.save({'state_dict': {'backbone.stem.0.weight': torch.zeros(
        16, 3, 7, 7)}}, foreign)  # another architecture's stem
    cases = {str(tmp_path / 'missing.pth'): 'missing.pth',
             str(empty): 'empty.pth is not a torch checkpoint',
             str(cut): 'cut.pth is incomplete',
             str(foreign): 'foreign.pth does not fit the model'}
    tools = {
        'tools/eval/kmeans.py': ['--limit', '2'],
        'tools/eval/linear_probe.py': ['--feature', 'backbone',
                                       '--work-dir', str(tmp_path / 'w')],
        'tools/eval/retrieval.py': ['--limit', '2'],
        'tools/eval/propagate_davis.py': ['--max-frames', '3'],
    }
    for tool, options in tools.items():
        module = _tool(tool)
        for checkpoint, said in cases.items():
            with pytest.raises(SystemExit) as stop:
                module.main([MINI_DEEPLAB_PATH, checkpoint, *options,
                             '--out-dir', str(tmp_path / 'out')])
            message = str(stop.value)
            assert message.startswith('error: ') and said in message, (
                tool, message)
            assert '\n' not in message.strip(), (tool, message)
    assert not (tmp_path / 'out').exists()


def test_every_tool_answers_help_in_under_2_seconds():
    """Tools import the library after parsing: --help needs neither torch
    nor the plugin (median of 3 runs each)."""
    import glob
    import time
    slow = {}
    for path in sorted(glob.glob(osp.join(REPO, 'tools', '**', '*.py'),
                                 recursive=True)):
        if osp.basename(path).startswith('_'):
            continue
        times = []
        for _ in range(3):
            start = time.perf_counter()
            result = run_tool(sys.executable, path, '--help')
            times.append(time.perf_counter() - start)
            assert result.returncode == 0, (path, result.stdout[-500:])
            assert 'usage' in result.stdout, path
        if sorted(times)[1] >= 2.0:
            slow[osp.relpath(path, REPO)] = sorted(times)[1]
    assert not slow, slow


def test_tool_defaults_are_the_librarys():
    """Defaults a tool spells out for a fast --help stay the library's."""
    from mmssl_seg.checkpoint.layouts import DEFAULT_NEW_LAYERS, SOURCE_LAYOUTS
    from mmssl_seg.datasets.label_splits import DEFAULT_FRACTIONS
    from mmssl_seg.priors import hierarchy
    from mmssl_seg.structures import D_T
    tool = _tool('tools/priors/make_hierarchies.py')
    for name in ('DEFAULT_FOREST', 'DEFAULT_MULTISCALE', 'DEFAULT_SHARPEN',
                 'DEFAULT_SPECTRAL', 'DEFAULT_SPECTRAL_SIZE', 'ARC_STRENGTHS',
                 'DEFAULT_ARCS'):
        assert getattr(tool, name) == getattr(hierarchy, name), name
    assert _tool('tools/priors/train_structured_edges.py'
                 ).DEFAULT_FOREST_DIR == hierarchy.DEFAULT_FOREST_DIR
    assert _tool('tools/make_label_splits.py'
                 ).DEFAULT_FRACTIONS == DEFAULT_FRACTIONS
    converter = _tool('tools/model_converters/extract_pretrained.py')
    assert converter.SOURCE_LAYOUTS == tuple(SOURCE_LAYOUTS)
    assert converter.DEFAULT_NEW_LAYERS == DEFAULT_NEW_LAYERS
    for path in ('tools/analysis/prior_purity.py',
                 'tools/analysis/tree_pair_stats.py'):
        assert _tool(path).D_T == D_T
    assert osp.isfile(osp.join(REPO, _tool('tools/eval/_eval_args.py'
                                           ).DEFAULT_DATA))
    from benchmarks.suite import SUITES
    assert _tool('tools/benchmark.py').SUITES == tuple(sorted(SUITES))
