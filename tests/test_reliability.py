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
                      str(out), '--images', folder, '--workers', '1',
                      '--picture', '2')
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
                      '--workers', '1', '--strict')
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
