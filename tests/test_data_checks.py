"""A run whose data or prior folders are missing stops before anything is
built, with one short message: the path, the variable that moves it and what
makes it (datasets/checks.py)."""
from __future__ import annotations

import os.path as osp
import sys

import pytest
from mmengine.config import Config

from mmssl_seg.datasets.checks import (
    DataNotFoundError,
    check_data,
    missing_data,
)
from tests.conftest import MINI_DEEPLAB, REPO, needs_voc12_mini, run_tool

MASK_MINI = osp.join(REPO, 'configs/mask_contrast/'
                     'mask-contrast_r18-d8_1xb16-500_voc12mini-96x96.py')


def test_headline_command_without_voc_says_what_to_do(tmp_path) -> None:
    root = str(tmp_path / 'nowhere' / 'VOC2012')
    result = run_tool(sys.executable, 'tools/train.py',
                      'configs/mix_match/mix-match_vgg16-bn_1xb16-8k_'
                      'voc12aug-512x512.py', '--work-dir',
                      str(tmp_path / 'work'), env={'VOC12_ROOT': root})
    assert result.returncode == 1
    out = result.stdout
    assert 'Traceback' not in out
    # (mmengine's own note on the variable it substituted may precede it)
    lines = [line for line in out.splitlines()
             if 'pkg_resources' not in line and 'import pkg' not in line
             and '_bootstrap' not in line and ' - mmengine - ' not in line]
    assert lines == [
        'error: configs/mix_match/mix-match_vgg16-bn_1xb16-8k_'
        'voc12aug-512x512.py reads data that is not there:',
        f'  {root}  (data root)',
        "    set VOC12_ROOT to its folder, or make it: VOC 2012 with SBD "
        "(MMSeg's voc_aug converter): docs/dataset_prepare.md",
        'Nothing was run.']
    assert not (tmp_path / 'work').exists()  # nothing was built


def test_a_missing_file_inside_an_existing_root_is_named(tmp_path,
                                                         monkeypatch) -> None:
    root = tmp_path / 'VOC2012'
    for folder in ('JPEGImages', 'SegmentationClass'):
        (root / folder).mkdir(parents=True)
    monkeypatch.setenv('VOC12_ROOT', str(root))
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/mix_match/mix-match_vgg16-bn_1xb16-8k_'
        'voc12aug-512x512.py'))
    (missing, ) = missing_data(cfg)
    assert missing.path == str(root / 'ImageSets/Segmentation/trainaug.txt')
    assert (missing.what, missing.variable) == ('image list', 'VOC12_ROOT')


def test_a_missing_prior_folder_points_to_its_tool(tmp_path,
                                                   monkeypatch) -> None:
    needs_voc12_mini()
    monkeypatch.setenv('SALIENCY_DIR', str(tmp_path / 'saliency'))
    cfg = Config.fromfile(MASK_MINI)
    (missing, ) = missing_data(cfg)  # the list inside is not named again
    assert missing.path == str(tmp_path / 'saliency')
    assert missing.variable == 'SALIENCY_DIR'
    assert 'tools/priors/make_saliency.py' in missing.hint
    with pytest.raises(DataNotFoundError, match='Nothing was run'):
        check_data(cfg)


def test_present_data_passes_and_val_is_checked_when_asked(
        tmp_path, monkeypatch) -> None:
    needs_voc12_mini()
    cfg = Config.fromfile(MINI_DEEPLAB)
    assert missing_data(cfg, ('train', 'val', 'test')) == []
    cfg.val_dataloader.dataset.ann_file = str(tmp_path / 'val.txt')
    assert missing_data(cfg, ('train', )) == []
    (missing, ) = missing_data(cfg, ('train', 'val'))
    assert missing.path == str(tmp_path / 'val.txt')
    assert missing.variable is None  # no variable names this path
