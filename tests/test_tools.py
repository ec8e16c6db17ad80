"""The command-line tools end to end on real data (voc12_mini)."""
import glob
import json
import os
import os.path as osp
import re
import shutil
import sys

import pytest
import torch

from tests.conftest import (
    MINI_DEEPLAB,
    MINI_PSPNET,
    REPO,
    VOC12_MINI,
    needs_voc12_mini,
    quick_options,
    run_tool,
)


def _run_log(work_dir: str) -> str:
    """The text of a run's log file
    (``<work_dir>/<timestamp>/<timestamp>.log``),
    which has what mmengine does not print, such as weight loading."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    assert logs, f'no log file under {work_dir}'
    return open(logs[-1]).read()


def _miou(log: str) -> float:
    found = re.findall(r'mIoU: ([0-9.]+)', log)
    assert found, log[-2000:]
    return float(found[-1])


@pytest.mark.parametrize('config', [MINI_DEEPLAB, MINI_PSPNET])
def test_finetune_from_converted_checkpoint(mini_run, tmp_path, config):
    extracted = str(tmp_path / 'backbone.pth')
    result = run_tool(sys.executable,
                      'tools/model_converters/extract_pretrained.py',
                      mini_run['checkpoint'], extracted, '--target', config)
    assert result.returncode == 0, result.stdout[-2000:]
    assert re.search(r'backbone\s+backbone\.\s+identity\s+132', result.stdout)

    work_dir = str(tmp_path / 'finetune')
    result = run_tool(
        sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
        '--cfg-options', *quick_options(2),
        'model.backbone.init_cfg.type=Pretrained',
        f'model.backbone.init_cfg.checkpoint={extracted}',
        'model.backbone.init_cfg.prefix=backbone.')
    assert result.returncode == 0, result.stdout[-3000:]
    log = _run_log(work_dir)
    assert f'load backbone. in model from: {extracted}' in log
    assert 'missing keys' not in log and 'unexpected key' not in log
    assert 0.0 <= _miou(result.stdout) <= 100.0


def test_pretrained_init_that_leaves_weights_random_stops_the_run(
        mini_run, tmp_path):
    """init_cfg=Pretrained without prefix='backbone.' (mmengine only warns
    and trains from random init) stops before the first iteration, naming
    the module, the keys and the fix."""
    extracted = str(tmp_path / 'backbone.pth')
    result = run_tool(sys.executable,
                      'tools/model_converters/extract_pretrained.py',
                      mini_run['checkpoint'], extracted, '--target',
                      MINI_DEEPLAB)
    assert result.returncode == 0, result.stdout[-2000:]
    result = run_tool(
        sys.executable, 'tools/train.py', MINI_DEEPLAB, '--work-dir',
        str(tmp_path / 'finetune'), '--cfg-options', *quick_options(2),
        'model.backbone.init_cfg.type=Pretrained',
        f'model.backbone.init_cfg.checkpoint={extracted}')
    assert result.returncode != 0
    assert 'init_cfg=Pretrained of `backbone`' in result.stdout
    assert "set init_cfg.prefix='backbone.'" in result.stdout
    assert 'Iter(train)' not in result.stdout


def test_resume_continues_from_the_work_dir(mini_run, tmp_path):
    work_dir = str(tmp_path / 'resumed')
    shutil.copytree(mini_run['work_dir'], work_dir)
    # mmengine records the latest checkpoint by absolute path
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'iter_2.pth'))
    before = torch.load(osp.join(work_dir, 'iter_2.pth'), weights_only=False)
    result = run_tool(sys.executable, 'tools/train.py', MINI_DEEPLAB,
                      '--work-dir', work_dir, '--resume', '--cfg-options',
                      *quick_options(4), 'default_hooks.checkpoint.interval=2')
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'resumed epoch: 0, iter: 2' in result.stdout
    assert 'Iter(train) [3/4]' in result.stdout  # continues, not restarts
    assert 'Iter(train) [1/4]' not in result.stdout
    after = torch.load(osp.join(work_dir, 'iter_4.pth'), weights_only=False)
    assert after['meta']['iter'] == 4
    # the optimizer state came along: momentum buffers exist from the start
    assert len(after['optimizer']['state']) == len(
        before['optimizer']['state'])


class _Payload:
    """Pickles as a call that writes a file: what a planted checkpoint
    would run if it were unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").write("ran")', ))


def test_test_tool_reads_weights_safely_and_refuses_what_does_not_fit(
        mini_run, tmp_path):
    """tools/test.py scores its own run, and a training checkpoint copied
    from elsewhere, reading only tensors (a planted payload never runs);
    weights of another architecture stop it with one message naming the
    keys, as in the evaluation tools."""
    result = run_tool(sys.executable, 'tools/test.py', MINI_DEEPLAB,
                      mini_run['checkpoint'], '--work-dir',
                      mini_run['work_dir'], '--cfg-options',
                      *quick_options(2))
    assert result.returncode == 0, result.stdout[-3000:]
    own = _miou(result.stdout)
    assert 0.0 <= own <= 100.0

    planted = tmp_path / 'copied_work_dir'
    planted.mkdir()
    marker = str(tmp_path / 'payload_ran')
    checkpoint = torch.load(mini_run['checkpoint'], weights_only=False)
    checkpoint['meta']['planted'] = _Payload(marker)
    torch.save(checkpoint, planted / 'iter_2.pth')
    result = run_tool(sys.executable, 'tools/test.py', MINI_DEEPLAB,
                      str(planted / 'iter_2.pth'), '--work-dir', str(planted),
                      '--cfg-options', *quick_options(2))
    assert result.returncode == 0, result.stdout[-3000:]
    assert not osp.exists(marker)
    assert _miou(result.stdout) == own  # the same weights

    from mmssl_seg.models.builder import build_model
    r50 = build_model(osp.join(REPO, 'configs/finetune/deeplabv3_r50-d8_'
                               '4xb4-20k_voc12aug-512x512.py'))
    other = str(tmp_path / 'r50.pth')
    torch.save({'state_dict': r50.state_dict()}, other)
    result = run_tool(sys.executable, 'tools/test.py', MINI_DEEPLAB, other,
                      '--work-dir', str(tmp_path / 'wd'), '--cfg-options',
                      *quick_options(2))
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines[-1].startswith(f'error: {other} does not fit the model')
    assert 'backbone.layer1.0.conv1.weight: (64, 64, 1, 1) vs (64, 64, 3, 3)' \
        in lines[-1]
    assert 'Traceback' not in result.stdout and 'mIoU' not in result.stdout


def test_downstream_project_with_mmseg_own_train_tool(tmp_path):
    """A project outside the repo: custom_imports + our config as _base_,
    one of our registered datasets, trained by MMSeg's own tools/train.py."""
    needs_voc12_mini()
    import mmseg
    mmseg_train = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools',
                           'train.py')
    project = tmp_path / 'my_project'
    project.mkdir()
    (project / 'my_config.py').write_text(f'''
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
_base_ = [r'{MINI_DEEPLAB}']
train_dataloader = dict(dataset=dict(
    type='VOCAugDataset',  # registered by mmssl_seg into mmseg's DATASETS
    data_root=r'{VOC12_MINI}',
    data_prefix=dict(img_path='JPEGImages',
                     seg_map_path='SegmentationClassAug'),  # absent here
    fallback_seg_map_path='SegmentationClass'))
''')
    env = {'PYTHONPATH': ''}  # only the installed package, not the checkout
    result = run_tool(sys.executable, mmseg_train, 'my_config.py',
                      '--work-dir', str(project / 'work_dir'),
                      '--cfg-options', *quick_options(2), cwd=str(project),
                      env=env)
    assert result.returncode == 0, result.stdout[-3000:]
    assert osp.isfile(project / 'work_dir' / 'iter_2.pth')
    assert 0.0 <= _miou(result.stdout) <= 100.0


def test_train_with_tensorboard_writes_events(tmp_path):
    needs_voc12_mini()
    work_dir = str(tmp_path / 'tb')
    result = run_tool(sys.executable, 'tools/train.py', MINI_DEEPLAB,
                      '--tensorboard', '--work-dir', work_dir,
                      '--cfg-options', *quick_options(2))
    assert result.returncode == 0, result.stdout[-3000:]
    (events, ) = glob.glob(osp.join(work_dir, '*', 'vis_data',
                                    'events.out.tfevents.*'))
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )
    scalars = EventAccumulator(events).Reload().Tags()['scalars']
    assert {'loss', 'lr', 'mIoU'} <= set(scalars)
    # the local backend stays
    assert glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))


def test_dist_train_two_processes_on_cpu(tmp_path):
    needs_voc12_mini()
    work_dir = str(tmp_path / 'dist')
    result = run_tool('bash', 'tools/dist_train.sh', MINI_DEEPLAB, '2',
                      '--work-dir', work_dir, '--cfg-options',
                      *quick_options(2),
                      env={'PORT': '29517', 'PYTHON': sys.executable})
    assert result.returncode == 0, result.stdout[-3000:]
    # the environment dump goes to the run's log file, not the console
    assert 'Distributed training: True' in _run_log(work_dir)
    assert 'GPU number: 2' in _run_log(work_dir)  # (processes on CPU)
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))


def test_tools_close_the_process_group_they_ran_in(tmp_path):
    """A finished run's exit path destroys the group (gloo torn down at
    interpreter exit aborted a rank after a finished run); a failed run
    leaves it to the process's exit."""
    import torch.distributed as dist

    from mmssl_seg.apis.train_test import process_group_closed
    store = f'file://{tmp_path}/store'
    with process_group_closed():
        dist.init_process_group('gloo', init_method=f'{store}0', rank=0,
                                world_size=1)
        assert dist.is_initialized()
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match='the run failed'):
        with process_group_closed():
            dist.init_process_group('gloo', init_method=f'{store}1', rank=0,
                                    world_size=1)
            raise RuntimeError('the run failed')
    assert dist.is_initialized()
    dist.destroy_process_group()


def test_make_label_splits_cli(tmp_path):
    needs_voc12_mini()
    ann = osp.join(VOC12_MINI, 'ImageSets/Segmentation/train.txt')
    result = run_tool(sys.executable, 'tools/make_label_splits.py', ann,
                      str(tmp_path), '--fractions', '10', '100', '--seeds',
                      '0', '1')
    assert result.returncode == 0, result.stdout
    manifest = json.loads((tmp_path / 'manifest.json').read_text())
    assert manifest['num_ids'] == 330
    ten = (tmp_path / 'train_10pct_seed0.txt').read_text().split()
    assert len(ten) == 33 and set(ten) <= set(open(ann).read().split())


def test_demo_end_to_end_small(tmp_path):
    """The README's main job at a tiny budget: every stage and output."""
    work_dir = str(tmp_path / 'demo')
    call = ('from mmssl_seg.apis.demo import run_demo; import json; '
            f'print(json.dumps(run_demo(r"{work_dir}", seeds=(0, 1), '
            'method_iters=4, supervised_iters=4, finetune_iters=2, '
            'num_train=40, num_val=6, num_pictures=2)["val_mIoU_runs"]))')
    result = run_tool(sys.executable, '-c', call)
    assert result.returncode == 0, result.stdout[-3000:]
    results = json.loads(open(osp.join(work_dir, 'results.json')).read())
    inits = ['random init', 'hierarchical grouping', 'supervised stand-in']
    assert set(results['val_mIoU']) == set(inits)
    for name in inits:  # two seeds each, summarised as mean and std
        runs = results['val_mIoU_runs'][name]
        assert len(runs) == 2
        assert results['val_mIoU'][name]['mean'] == pytest.approx(
            sum(runs) / 2, abs=0.01)
    # the method trained on region trees of the mosaics, without labels
    trees = json.load(open(osp.join(work_dir, 'hierarchies',
                                    'manifest.json')))
    assert len(trees['entries']) == 40
    # with the paper's primitive from the packaged forest (no BSDS500, no
    # forest training on a fresh machine)
    edges = trees['params']['detector']['edges']
    assert (edges['model'], edges['multiscale'], edges['sharpen']) == (
        'packaged:structured-edges_8trees_bsds500', True, 2)
    assert trees['params']['arcs'] == 'owt'
    assert osp.isfile(osp.join(work_dir, 'pretrain_hg', 'iter_4.pth'))
    assert results['left_at_random_init'] == {
        'hierarchical grouping': [r'^layer4\.']}
    assert osp.getsize(results['picture']) > 10_000
    log = _run_log(osp.join(work_dir, 'finetune_hierarchical_grouping',
                            'train_10pct_seed1'))
    backbone = results['backbones']['hierarchical grouping']
    assert f'load backbone. in model from: {backbone}' in log
    # a rerun reuses every stage and reproduces the numbers
    again = run_tool(sys.executable, '-c', call)
    assert again.returncode == 0, again.stdout[-3000:]
    assert 'Iter(train)' not in again.stdout
    assert json.loads(again.stdout.strip().splitlines()[-1]) == results[
        'val_mIoU_runs']


def test_readme_commands_are_the_makefile_targets():
    readme = open(osp.join(REPO, 'README.md')).read()
    makefile = open(osp.join(REPO, 'Makefile')).read()
    ci = open(osp.join(REPO, '.ci', 'run')).read()
    assert 'make demo' in readme and 'make test' in readme
    assert re.search(r'^demo: .*\n\t\$\(PY\) tools/demo.py', makefile, re.M)
    assert re.search(r'^test: .*\n\t\$\(PY\) -m pytest tests', makefile, re.M)
    assert re.search(r'^make test$', ci, re.M)
    assert os.access(osp.join(REPO, '.ci', 'run'), os.X_OK)


def test_console_keeps_what_a_user_reads_and_the_log_file_the_rest(
        mini_run):
    lines = mini_run['log'].splitlines()
    first = next(i for i, line in enumerate(lines) if 'Iter(train)' in line)
    assert first < 40, '\n'.join(lines[:first])  # not ~300 lines of dumps
    assert 'environment, config and hooks:' in mini_run['log']
    log = _run_log(mini_run['work_dir'])
    for dump in ('System environment:', 'Config:', 'Hooks will be executed'):
        assert dump in log and dump not in mini_run['log']
