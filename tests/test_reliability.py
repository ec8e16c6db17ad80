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

from mmssl_seg.priors.engine import list_images
from mmssl_seg.priors.saliency import make_saliency
from mmssl_seg.utils.io import FILE_MODE, ImageReadError, read_image
from tests.conftest import VOC12_MINI, needs_voc12_mini, run_tool


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
    assert strict.returncode != 0 and 'ImageReadError' in strict.stdout
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
    from mmssl_seg.utils.checkpoint import save_tensors_only
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
    # configs name the stock hook; in MMSeg's scope it is the safe one
    assert HOOKS.get('CheckpointHook') is AtomicCheckpointHook
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

    from mmssl_seg.utils.checkpoint import CheckpointReadError, read_checkpoint
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
