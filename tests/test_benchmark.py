"""tools/benchmark.py: cached stages, the suites' wiring (voc12_mini and
mosaic), the schedule scaling that gives methods one budget, and the
table."""
from __future__ import annotations

import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from benchmarks.suite import (
    REGIMES,
    ROWS,
    Stage,
    SuiteOptions,
    run_stages,
    suite_stages,
)
from benchmarks.suite.plot import plot_linear_probe
from benchmarks.suite.stages import (
    check_stages,
    config_files,
    is_done,
    plan,
    read_record,
    restore_results,
    save_results,
    stale,
    write_record,
)
from benchmarks.suite.suite import (
    MOSAIC_PEER_CONFIGS,
    PRETRAIN_CONFIGS,
)
from benchmarks.suite.table import (
    collect,
    majority_floor,
    render,
    write_table,
)
from mmssl_seg.engine.runner import load_config, rescale_schedule

from .conftest import (
    CAMVID,
    HORSES,
    REPO,
    VOC12_MINI,
    needs_voc12_mini,
    run_tool,
)


def _counting_stage(tmp, name, deps=(), fail_flag=None, output=True):
    """A stage that appends to a counter file (to see reruns), fails while
    ``fail_flag`` exists and writes its output unless told not to."""
    out = str(tmp / f'{name}.out')
    code = (f'import os,sys\n'
            f'open({str(tmp / (name + ".count"))!r}, "a").write("x")\n'
            f'if {fail_flag!r} and os.path.exists({fail_flag!r}): '
            f'sys.exit(3)\n')
    if output:
        code += f'open({out!r}, "w").write("ok")\n'
    return Stage(name, ('-c', code), (out, ), deps=deps)


def _count(tmp, name):
    path = tmp / f'{name}.count'
    return len(path.read_text()) if path.exists() else 0


def test_stages_cache_retry_and_block(tmp_path):
    flag = tmp_path / 'broken'
    flag.write_text('')
    stages = [
        _counting_stage(tmp_path, 'a'),
        _counting_stage(tmp_path, 'b', fail_flag=str(flag)),
        _counting_stage(tmp_path, 'c', deps=('b', )),
        _counting_stage(tmp_path, 'd', output=False),
    ]
    work = str(tmp_path / 'work')
    status = run_stages(stages, work, str(tmp_path), python=sys.executable)
    # exit 0 without the promised output is a failure too
    assert status == {'a': 'done', 'b': 'failed', 'c': 'blocked',
                      'd': 'failed'}
    record = read_record(work, 'b')
    assert record['returncode'] == 3 and osp.isfile(record['log'])
    assert read_record(work, 'd')['missing_outputs'] == [stages[3].outputs[0]]
    flag.unlink()
    status = run_stages(stages, work, str(tmp_path), python=sys.executable)
    assert status == {'a': 'cached', 'b': 'done', 'c': 'done', 'd': 'failed'}
    assert [_count(tmp_path, n) for n in 'abcd'] == [1, 2, 1, 2]
    # a changed command or a deleted output makes its stage run again
    changed = Stage('a', stages[0].argv + ('--option', ), stages[0].outputs)
    assert is_done(stages[0], work) and not is_done(changed, work)
    (tmp_path / 'a.out').unlink()
    assert not is_done(stages[0], work)
    assert run_stages(stages[:1], work, str(tmp_path))['a'] == 'done'


def test_an_edited_config_or_a_rerun_dependency_runs_again(tmp_path):
    """The cache is keyed on what the command reads, not only on its line:
    a config (or a base of it) edited since the record reruns the stage,
    and a stage whose dependency ran after it reruns too."""
    (tmp_path / 'configs').mkdir()
    base = tmp_path / 'configs' / 'base.py'
    base.write_text('momentum = 0.999\n')
    (tmp_path / 'configs' / 'child.py').write_text(
        "_base_ = ['base.py', 'mmseg::_base_/default_runtime.py']\n")
    pre = _counting_stage(tmp_path, 'pre')
    pre = Stage('pre', pre.argv + ('configs/child.py', ), pre.outputs)
    # like the evaluation tools: refuses to replace its result or to reuse
    # its scratch folder, which the suite clears before a rerun
    post, scratch = _counting_stage(tmp_path, 'post'), tmp_path / 'probe'
    refuse = (f'import os,sys\n'
              f'if os.path.exists({post.outputs[0]!r}): sys.exit(4)\n'
              f'os.makedirs({str(scratch)!r})\n')
    post = Stage('post', ('-c', refuse + post.argv[1]), post.outputs,
                 deps=('pre', ), scratch=(str(scratch), ))
    stages = [pre, post]
    assert config_files(pre.argv, str(tmp_path)) == [
        'configs/base.py', 'configs/child.py']
    work, repo = str(tmp_path / 'work'), str(tmp_path)
    assert run_stages(stages, work, repo) == {'pre': 'done', 'post': 'done'}
    assert read_record(work, 'pre')['configs'] == [
        'configs/base.py', 'configs/child.py']
    assert run_stages(stages, work, repo) == {'pre': 'cached',
                                              'post': 'cached'}
    base.write_text('momentum = 0.99\n')
    assert not is_done(pre, work, repo)
    assert run_stages(stages, work, repo) == {'pre': 'done', 'post': 'done'}
    assert [_count(tmp_path, n) for n in ('pre', 'post')] == [2, 2]
    # a dependency run again for its lost files (same key) leaves its
    # dependant's result standing; one with a new config does not
    (tmp_path / 'pre.out').unlink()
    assert run_stages(stages, work, repo, only=['pre']) == {
        'pre': 'done', 'post': 'cached'}
    base.write_text('momentum = 0.9\n')
    assert run_stages(stages, work, repo, only=['pre']) == {
        'pre': 'done', 'post': 'not selected'}
    assert not is_done(stages[1], work, repo)
    assert run_stages(stages, work, repo)['post'] == 'done'
    assert [_count(tmp_path, n) for n in ('pre', 'post')] == [4, 3]


def _json_stage(tmp, work, name, deps=(), out='result.json'):
    """A counting stage that writes JSON ``{name: runs so far}`` into the
    work dir (a result) or, for ``out`` not ending in .json, a
    'checkpoint'."""
    path = f'{work}/{name}/{out}'
    count = str(tmp / f'{name}.count')
    code = ('import json,os\n'
            f'open({count!r}, "a").write("x")\n'
            f'os.makedirs({osp.dirname(path)!r}, exist_ok=True)\n'
            f'n = len(open({count!r}).read())\n'
            f'json.dump({{{name!r}: n}}, open({path!r}, "w"))\n')
    return Stage(name, ('-c', code), (path, ), deps=deps)


def test_a_results_archive_lets_another_machine_go_on(tmp_path):
    """A suite longer than one machine's life: every finished stage's
    record and JSON results go to an archive; a fresh work dir takes them
    back, reruns nothing whose dependants are done, and reruns what a new
    or edited stage needs, with the usual staleness rule."""
    archive = str(tmp_path / 'archive')
    # the suite's paths are relative to the repository: the same on
    # every machine; a new machine is a work dir that is gone
    first = second = third = str(tmp_path / 'work')

    def suite(work, extra=False):
        stages = [
            _json_stage(tmp_path, work, 'prior', out='trees.npz'),
            _json_stage(tmp_path, work, 'pretrain', ('prior', ),
                        out='iter_10.pth'),
            _json_stage(tmp_path, work, 'probe', ('pretrain', )),
            _json_stage(tmp_path, work, 'bsds', ('prior', )),
        ]
        if extra:  # a protocol added later needs the checkpoint again
            stages.append(_json_stage(tmp_path, work, 'davis',
                                      ('pretrain', )))
        return stages

    repo = str(tmp_path)
    status = run_stages(suite(first), first, repo, results=archive)
    assert set(status.values()) == {'done'}
    # records and JSON results only: no checkpoint, no prior
    assert sorted(p.relative_to(archive).as_posix() for p in
                  (tmp_path / 'archive').rglob('*') if p.is_file()) == [
        'bsds/result.json', 'probe/result.json', 'stages/bsds.json',
        'stages/pretrain.json', 'stages/prior.json', 'stages/probe.json']
    assert read_record(archive, 'probe') == read_record(first, 'probe')

    # another machine: nothing runs, the results come back as they were
    shutil.rmtree(first)
    status = run_stages(suite(second), second, repo, results=archive)
    assert status == dict.fromkeys(('prior', 'pretrain', 'probe', 'bsds'),
                                   'cached')
    assert json.load(open(f'{second}/probe/result.json')) == {'probe': 1}
    assert not osp.exists(f'{second}/pretrain/iter_10.pth')
    assert plan(suite(second), second, repo) == {
        'prior': 'not needed', 'pretrain': 'not needed', 'probe': 'done',
        'bsds': 'done'}

    # a new protocol needs the checkpoint: its chain runs again (same
    # commands, configs and inputs: the same key), the results stand
    assert plan(suite(second, True), second, repo) == {
        'prior': 'to run', 'pretrain': 'to run', 'probe': 'done',
        'bsds': 'done', 'davis': 'to run'}
    status = run_stages(suite(second, True), second, repo, results=archive)
    assert status == {'prior': 'done', 'pretrain': 'done', 'probe': 'cached',
                      'bsds': 'cached', 'davis': 'done'}
    assert [_count(tmp_path, n) for n in
            ('prior', 'pretrain', 'probe', 'bsds', 'davis')] == [
        2, 2, 1, 1, 1]
    assert json.load(open(f'{archive}/davis/result.json')) == {'davis': 1}
    assert read_record(archive, 'prior')['machine'].endswith('CPU cores')

    # a changed command is not covered by an archived record
    shutil.rmtree(second)
    stages = suite(third, True)
    stages[3] = Stage('bsds', stages[3].argv + ('--thresholds', ),
                      stages[3].outputs, deps=stages[3].deps)
    assert restore_results(stages, third, archive) == [
        s.name for s in stages]
    assert plan(stages, third, repo) == {
        'prior': 'to run', 'pretrain': 'not needed', 'probe': 'done',
        'bsds': 'to run', 'davis': 'done'}
    # records already in the archive are not written again
    assert save_results(stages, third, archive) == 0


def test_the_real_configs_bases_are_followed():
    files = config_files(
        ('tools/train.py',
         'configs/demo/aux-contrast_deeplabv3_r18-d8_1xb8-300_mosaic-64x64.py'),
        REPO)
    assert files == sorted([
        'configs/demo/aux-contrast_deeplabv3_r18-d8_1xb8-300_mosaic-64x64.py',
        'configs/aux_contrast/'
        'aux-contrast_deeplabv3_r18-d8_1xb8-300_voc12mini-128x128.py',
        'configs/_base_/models/aux_contrast_deeplabv3_r50-d8.py',
        'configs/_base_/datasets/aux_contrast.py',
        'configs/_base_/schedules/mini_cpu.py'])


def _checkout_copy(tmp_path) -> str:
    """The package, tools and configs in a folder of their own: a checkout
    whose code a test may edit."""
    repo = tmp_path / 'repo'
    for folder in ('mmssl_seg', 'tools', 'configs'):
        shutil.copytree(osp.join(REPO, folder), repo / folder,
                        ignore=shutil.ignore_patterns('__pycache__', '.mim'))
    return str(repo)


def test_an_edited_file_makes_exactly_the_stages_that_run_it_stale(
        tmp_path):
    """A record's key covers the code its stage ran: on the mosaic suite
    with every stage done, an edit to the aux-contrast loss makes exactly
    the aux-contrast rows' stages stale (pretrainings and, through their
    keys, everything evaluated from them), and an edit to the linear
    probe's tool exactly the linear probes."""
    repo = _checkout_copy(tmp_path)
    work = str(tmp_path / 'work')
    stages = suite_stages(SuiteOptions(suite='mosaic', work_dir=work))
    for stage in stages:
        write_record(stage, work, repo, status='done')
    assert stale(stages, work, repo) == set()
    aux_rows = {'aux_contrast', 'shuffled_prior_aux_contrast',
                'oracle_prior_aux_contrast'}
    with open(osp.join(repo, 'mmssl_seg/models/losses/'
                       'aux_contrast_loss.py'), 'a') as f:
        f.write('# edited\n')
    assert stale(stages, work, repo) == {
        s.name for s in stages if s.name.split('.')[0] in aux_rows}
    assert read_record(work, 'aux_contrast.pretrain')['commit'] is None

    for stage in stages:  # the edit, run
        write_record(stage, work, repo, status='done')
    with open(osp.join(repo, 'tools/eval/linear_probe.py'), 'a') as f:
        f.write('# edited\n')
    probes = {s.name for s in stages
              if s.name.split('.')[1].startswith('linear_probe')}
    assert len(probes) > 40 and stale(stages, work, repo) == probes


def test_a_record_keys_the_code_as_it_was_when_its_stage_started(tmp_path):
    """A file edited while a stage runs is not credited to that run: the
    record keeps the code key taken at the start, so the stage is stale."""
    tool = tmp_path / 'tools' / 'edit_me.py'
    tool.parent.mkdir()
    out = tmp_path / 'out.txt'
    tool.write_text(f'open({str(out)!r}, "w").write("x")\n'
                    'open(__file__, "a").write("# edited while running\\n")\n')
    stage = Stage('edit', ('tools/edit_me.py', ), (str(out), ))
    work, repo = str(tmp_path / 'work'), str(tmp_path)
    assert run_stages([stage], work, repo) == {'edit': 'done'}
    assert tool.read_text().endswith('# edited while running\n')
    assert not is_done(stage, work, repo)
    assert run_stages([stage], work, repo) == {'edit': 'done'}


def test_records_name_the_commit_they_ran():
    from benchmarks.suite.code import commit
    head = subprocess.run(['git', '-C', REPO, 'rev-parse', 'HEAD'],
                          capture_output=True, text=True)
    if head.returncode:
        pytest.skip('not a git checkout (a source archive)')
    assert commit(REPO).split('+')[0] == head.stdout.strip()


def test_dry_run_from_another_directory_lists_the_same_stages(tmp_path):
    tool = osp.join(REPO, 'tools/benchmark.py')
    runs = [run_tool(sys.executable, tool, '--suite', 'mosaic', '--dry-run',
                     cwd=cwd) for cwd in (REPO, str(tmp_path))]
    assert runs[0].returncode == 0, runs[0].stdout[-3000:]
    assert runs[1].stdout == runs[0].stdout
    assert runs[0].stdout.count('\n[') + 1 == len(
        suite_stages(SuiteOptions(suite='mosaic')))


def test_stage_order_and_names_are_checked():
    a = Stage('a', ('-c', 'pass'), ())
    with pytest.raises(ValueError, match='twice'):
        check_stages([a, a])
    with pytest.raises(ValueError, match='not earlier'):
        check_stages([Stage('b', ('-c', 'pass'), (), deps=('a', )), a])


def _dependencies(stages, name):
    by_name = {s.name: s for s in stages}
    todo, seen = list(by_name[name].deps), set()
    while todo:
        dep = todo.pop()
        if dep not in seen:
            seen.add(dep)
            todo += by_name[dep].deps
    return [by_name[d] for d in seen]


@pytest.mark.parametrize('suite', sorted(REGIMES))
def test_scratch_folders_hold_only_their_stage_and_its_dependants(suite):
    """What a stale rerun deletes: folders its stage's command writes to,
    holding nothing of a stage that would not run again after it."""
    stages = suite_stages(SuiteOptions(suite=suite, work_dir='w'))
    assert any(s.kind == 'prior' and s.scratch for s in stages)
    for stage in stages:
        for folder in stage.scratch:
            assert folder in stage.argv, (stage.name, folder)
            for other in stages:
                inside = [o for o in other.outputs
                          if o.startswith(folder + '/')]
                if inside and other is not stage:
                    assert stage in _dependencies(stages, other.name), (
                        stage.name, other.name)


@pytest.mark.parametrize('suite', sorted(REGIMES))
def test_suite_inputs_come_from_earlier_stages(suite):
    opts = SuiteOptions(suite=suite, work_dir='work_dirs/bench')
    regime = opts.regime
    stages = suite_stages(opts)
    check_stages(stages)
    by_name = {s.name: s for s in stages}
    frozen = ['linear_probe', 'kmeans', *regime.protocols]
    for row in regime.rows:
        steps = frozen + ([f'finetune_{f}' for f in regime.fractions]
                          if row.finetune else [])
        for step in steps:
            assert f'{row.name}.{step}' in by_name
        if row.in_index != -1:  # a random row reads the same stage
            assert any(r.in_index == row.in_index and not r.pretrained
                       and r.arch == row.arch for r in regime.rows), row
    # nothing of another regime's protocols runs
    assert {s.name.split('.')[1].split('_seed')[0] for s in stages
            if s.name.startswith('random_resnet18.')} == set(
                frozen + [f'finetune_{f}' for f in regime.fractions])
    # the hypercolumn has no Res5: its hand-off and frozen protocols say so,
    # the fine-tuning starts Res5 from random init
    allow = ('--allow-missing', r'^backbone\.layer4\.')
    for step in ['extract'] + frozen:
        argv = by_name[f'hier_grouping.{step}'].argv
        assert ' '.join(allow) in ' '.join(argv), step
        if step != 'extract':
            assert argv[argv.index('--in-index') + 1] == '2'
    assert '--allow-missing' not in by_name['aux_contrast.extract'].argv
    # random init's frozen protocols read one seeded draw (the probe's
    # first, which seeds its own init with --seed)
    for step in frozen[1:]:
        argv = by_name[f'random_resnet18.{step}'].argv
        assert argv[argv.index('--init-seed') + 1] == '0', step
        assert '--init-seed' not in by_name[f'hier_grouping.{step}'].argv
    assert '--init-seed' not in by_name['random_resnet18.linear_probe'].argv
    # every regime groups on the paper's primitive: the suite's own forest,
    # or on CamVid and the horses the packaged one (the same command's)
    trees = by_name['prior.hierarchies']
    assert trees.argv[trees.argv.index('--edges') + 1] == 'structured_forest'
    model = trees.argv[trees.argv.index('--edge-model') + 1]
    if suite in ('camvid', 'horses'):
        assert model == 'packaged' and 'prior.structured_edges' not in by_name
    else:
        assert 'prior.structured_edges' in trees.deps
        assert model == by_name['prior.structured_edges'].outputs[0]
    for stage in stages:
        tool = stage.argv[0]
        assert osp.isfile(osp.join(REPO, tool)), tool
        for arg in stage.argv[1:]:
            if arg.startswith('configs/'):
                assert osp.isfile(osp.join(REPO, arg)), arg
        # the mosaic configs read their folders from the environment
        if suite == 'mosaic' and stage.name != 'data.mosaics':
            assert stage.env.get('MOSAIC_ROOT', opts.mosaic_root) == \
                opts.mosaic_root
            if any('mosaic-64x64' in a for a in stage.argv):
                assert stage.env['MOSAIC_ROOT'] == opts.mosaic_root
        # every file or folder of the suite a stage reads was written by
        # one of its (transitive) dependencies
        produced = [o for d in _dependencies(stages, stage.name)
                    for o in d.outputs]
        inputs = [a for a in stage.argv[2:] + tuple(stage.env.values())
                  if a.startswith(opts.work_dir)
                  and a not in stage.outputs
                  and not any(o.startswith(a) for o in stage.outputs)
                  and not re.search(r'/(probe|pretrain)(_seed\d+)?$|'
                                    r'/eval(/seed\d+)?$', a)
                  and '/finetune_' not in a]
        for path in inputs:
            assert any(o == path or o.startswith(path.rstrip('/') + '/')
                       or o.startswith(osp.dirname(path) + '/')
                       for o in produced), (stage.name, path)


@pytest.mark.parametrize('suite', sorted(REGIMES))
def test_controls_and_seeds_are_wired(suite):
    opts = SuiteOptions(suite=suite, work_dir='w')
    regime = opts.regime
    by_name = {s.name: s for s in suite_stages(opts)}
    rows = {r.name: r for r in regime.rows}
    peers = [m for m in regime.pretrain_configs if m.startswith('mmpr')]
    assert sorted(peers) == ['mmpretrain_densecl', 'mmpretrain_mocov2']
    for method in peers:
        # MMPretrain's peers: configs inheriting MMPretrain's own, no prior
        # (so no negative control), judged against random init and the
        # positive control of their backbone variant (the 7x7 stem)
        assert f'shuffled_prior_{method}' not in rows
        config = by_name[f'{method}.pretrain'].argv[1]
        assert config == regime.pretrain_configs[method]
        assert 'mmpretrain::' in open(osp.join(REPO, config)).read() or \
            'mmpretrain::' in open(osp.join(
                REPO, MOSAIC_PEER_CONFIGS[method])).read()
        arch = rows[method].arch
        assert arch == 'resnet18_v1b'
        assert {f'random_{arch}', f'supervised_{arch}'} <= rows.keys()
        argv = by_name[f'{method}.extract'].argv
        target = argv[argv.index('--target') + 1]
        assert target == regime.eval_configs[arch]
        assert 'r18-v1b-d8' in target
    for method in set(regime.pretrain_configs) - set(peers):
        control = rows[f'shuffled_prior_{method}']
        assert control.method == method and control.arch == rows[method].arch
        assert control.in_index == rows[method].in_index
        own = by_name[f'{method}.pretrain']
        shuffled = by_name[f'shuffled_prior_{method}.pretrain']
        # the same config and budget; only the prior folder differs
        assert own.argv[1] == shuffled.argv[1]
        at = own.argv.index('--max-iters') + 1
        assert own.argv[at] == shuffled.argv[at]
        reads = [*shuffled.env.values(), *shuffled.argv]
        assert any('/priors/shuffled_' in a for a in reads), method
        assert not any('/priors/shuffled_' in a
                       for a in [*own.env.values(), *own.argv])
        if method == 'mix_match':  # its prior is the labels: no oracle
            assert f'oracle_prior_{method}' not in rows
            continue
        # the oracle control: the same again on the ground truth's prior
        oracle = by_name[f'oracle_prior_{method}.pretrain']
        assert rows[f'oracle_prior_{method}'].in_index == \
            rows[method].in_index
        assert oracle.argv == own.argv[:3] + (
            own.argv[3].replace(f'w/{method}/',
                                f'w/oracle_prior_{method}/'), ) + \
            own.argv[4:]
        (variable, folder), = own.env.items() - {
            ('MOSAIC_ROOT', opts.mosaic_root),
            ('HORSE_ROOT', opts.horse_root)}
        oracle_folder = folder.replace('/priors/', '/priors/oracle_')
        assert oracle.env[variable] == oracle_folder
        # and the same start (MaskContrast on the horses: MoCo v2's)
        assert oracle.deps == (f'prior.{osp.basename(oracle_folder)}',
                               *own.deps[1:])
    folders = ['hierarchies', 'aux_labels']
    folders += ['saliency'] if 'mask_contrast' in regime.pretrain_configs \
        else []
    gt = {'mosaic': f'{opts.mosaic_root}/annotations/train',
          'horses': f'{opts.horse_root}/annotations/train',
          'camvid': 'data/camvid/labels/train'}.get(
              suite, f'{opts.voc_root}/SegmentationClass')
    for folder in folders:
        argv = by_name[f'prior.shuffled_{folder}'].argv
        assert argv[1:3] == (f'w/priors/{folder}',
                             f'w/priors/shuffled_{folder}')
        stage = by_name[f'prior.oracle_{folder}']
        assert stage.argv[:4] == ('tools/priors/oracle_priors.py',
                                  f'w/priors/{folder}', gt,
                                  f'w/priors/oracle_{folder}')
        assert stage.deps == (f'prior.{folder}', )
    # positive controls: the evaluation segmentor itself on the labels,
    # under the methods' wall-clock budget
    for arch, config in regime.eval_configs.items():
        argv = by_name[f'supervised_{arch}.pretrain'].argv
        assert argv[1] == config
        iters = int(argv[argv.index('--max-iters') + 1])
        seconds = regime.seconds_per_iter[f'supervised_{arch}']
        assert iters * seconds == pytest.approx(opts.pretrain_minutes * 60,
                                                abs=seconds)
    # every row's linear probe on every pretraining (or init) seed, with
    # the regime's probe config
    for row in regime.rows:
        for seed in opts.pretrain_seeds:
            suffix = '' if seed == opts.pretrain_seeds[0] else f'_seed{seed}'
            argv = by_name[f'{row.name}.linear_probe{suffix}'].argv
            assert argv[argv.index('--seed') + 1] == str(seed)
            assert argv[argv.index('--probe-config') + 1] == \
                regime.probe_config
            if row.pretrained:
                assert argv[2].endswith(f'/backbone{suffix}.pth')
                train = by_name[f'{row.checkpoints_of}.pretrain{suffix}']
                assert f'randomness.seed={seed}' in train.argv
    # auxiliary labels from the extractor that has learned something
    aux = by_name['prior.aux_labels'].argv
    assert aux[2] == regime.pretrain_configs['hier_grouping']
    assert aux[3].startswith('w/hier_grouping/pretrain/iter_')
    # K-means on the regime's own val images (the tool's default data set
    # is voc12_mini: a mosaic model clustered there scored VOC's floor)
    for row in regime.rows:
        argv = by_name[f'{row.name}.kmeans'].argv
        ks = argv[argv.index('--ks') + 1:argv.index('--seeds')]
        assert ks == tuple(str(k) for k in regime.kmeans_ks)
        if regime.data_config:
            assert argv[argv.index('--data') + 1] == regime.data_config
        else:
            assert '--data' not in argv
    res4 = by_name['supervised_resnet18_res4.linear_probe'].argv
    assert res4[2] == 'w/supervised_resnet18/backbone.pth'
    # the data-statistics control per architecture: each seed's random init
    # with the train images' BN statistics, read by that seed's probe (and
    # by the Res4 row's); no training, so no fine-tuning row
    for arch, config in regime.eval_configs.items():
        row = rows[f'random_bn_stats_{arch}']
        assert row.control == 'bn_stats' and not row.finetune
        assert not row.pretrained
        for seed in opts.pretrain_seeds:
            suffix = '' if seed == opts.pretrain_seeds[0] else f'_seed{seed}'
            made = by_name[f'random_bn_stats_{arch}.bn_stats{suffix}']
            out = f'w/random_bn_stats_{arch}/backbone{suffix}.pth'
            assert made.argv == ('tools/eval/bn_statistics.py', config,
                                 'random', out, '--seed', str(seed))
            readers = [f'random_bn_stats_{arch}']
            readers += (['random_bn_stats_resnet18_res4']
                        if arch == 'resnet18' else [])
            for reader in readers:
                probe = by_name[f'{reader}.linear_probe{suffix}']
                assert probe.argv[2] == out and probe.deps == (made.name, )


@pytest.mark.parametrize('suite', [
    s for s in sorted(REGIMES) if 'mix_match' in REGIMES[s].pretrain_configs])
def test_mix_match_control_reads_the_shuffled_label_maps(suite, tmp_path):
    """The negative control's label folder reaches the dataset as given:
    a relative path would be joined to the data set's data_root (how the
    first version of this stage would have read a folder that does not
    exist)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    opts = SuiteOptions(suite=suite, work_dir='w')
    stage = {s.name: s for s in suite_stages(opts)}[
        'shuffled_prior_mix_match.pretrain']
    options = stage.argv[stage.argv.index('--cfg-options') + 1:]
    cfg = load_config(osp.join(REPO, stage.argv[1]), cfg_options=dict(
        o.split('=', 1) for o in options if 'seg_map_path' in o))
    init_default_scope('mmseg')
    dataset = cfg.train_dataloader.dataset
    dataset.lazy_init = True
    built = DATASETS.build(dataset)
    assert built.data_prefix['seg_map_path'] == osp.abspath(
        'w/priors/shuffled_labels')
    assert 'prior.shuffled_labels' in stage.deps


def test_same_budget_and_scale():
    one, two = SuiteOptions(), SuiteOptions(scale=2)
    for method in PRETRAIN_CONFIGS:
        assert two.pretrain_iters(method) == pytest.approx(
            2 * one.pretrain_iters(method), abs=1)
    by_name = {s.name: s for s in suite_stages(two)}
    # the forest keeps the SE paper's budget at every scale
    unscaled = {s.name: s for s in suite_stages(one)}
    assert by_name['prior.structured_edges'].argv == unscaled[
        'prior.structured_edges'].argv
    ft = by_name['mask_contrast.finetune_10'].argv
    assert ft[ft.index('--max-iters') + 1] == str(2 * one.finetune_iters)


def test_rescale_schedule_keeps_the_shape_of_real_configs():
    cfg = rescale_schedule(load_config(osp.join(
        REPO, PRETRAIN_CONFIGS['hier_grouping'])), 200)  # 400 -> 200
    assert cfg.train_cfg.max_iters == 200
    assert cfg.param_scheduler[0].milestones == [150]  # was 300 of 400
    assert cfg.default_hooks.checkpoint.interval == 50
    cfg = rescale_schedule(load_config(osp.join(
        REPO, 'configs/hier_grouping/'
        'contour-net_r18_1xb4-2k_bsds500-256x256.py')), 500)
    assert cfg.param_scheduler[0].end == 500
    probe = load_config(osp.join(REPO, 'configs/eval/linear_probe/'
                                 'linear-probe_1xb16-10e_voc12mini-128x128.py'))
    with pytest.raises(ValueError, match='iteration-based'):
        rescale_schedule(probe, 10)


def test_table_reads_what_the_stages_wrote(tmp_path):
    needs_voc12_mini()
    opts = SuiteOptions(work_dir=str(tmp_path), voc_root=VOC12_MINI)
    stages = suite_stages(opts)
    ev = tmp_path / 'mask_contrast' / 'eval'
    (ev / 'finetune_10').mkdir(parents=True)
    json.dump({'val_mIoU': 7.25}, open(ev / 'linear_probe.json', 'w'))
    json.dump({'mIoU_per_fraction': {'10': {
        'mean': 5.5, 'std': 0.25, 'runs': [5.25, 5.75]}}},
        open(ev / 'finetune_10' / 'label_fraction.json', 'w'))
    json.dump({'J': 40.0, 'F': 30.0}, open(ev / 'davis_propagation.json',
                                            'w'))
    result = collect(opts, stages)
    text = render(result, notes='Why: a note.')
    row = next(line for line in text.splitlines()
               if line.startswith('| MaskContrast'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    # the only row with numbers is the best of every protocol: bold
    assert cells[5] == '**7.25**' and cells[8] == '**5.50 ± 0.25**'
    assert cells[11:] == ['**40.00**', '**30.00**']
    assert cells[6] == '-'  # not measured is not zero
    assert 'Why: a note.' in text
    assert all(s['status'] == 'not run' for s in result['stages'].values())
    # the all-background floor, computed from the 200 real val label maps
    floor = result['priors']['floor']
    assert floor['images'] == 200 and 0.5 < floor['fraction'] < 0.9
    assert f'scores {floor["mIoU"]:.2f} val mIoU' in text


def test_controls_give_headroom_and_verdicts(tmp_path):
    opts = SuiteOptions(work_dir=str(tmp_path), voc_root=str(tmp_path))
    probes = {'random_resnet18': [3.0, 3.5, 4.0],
              'random_bn_stats_resnet18': [5.0, 5.5, 6.0],
              'supervised_resnet18': [15.0, 16.0, 14.0],
              # MaskContrast's 7x7-stem variant: its own random init and
              # controls, the same values
              'random_resnet18_v1b': [3.0, 3.5, 4.0],
              'random_bn_stats_resnet18_v1b': [5.0, 5.5, 6.0],
              'supervised_resnet18_v1b': [15.0, 16.0, 14.0],
              'mask_contrast': [6.0, 6.5, 5.5],
              'shuffled_prior_mask_contrast': [5.5, 6.5, 6.0],
              # on the ground truth's masks: above all, but uses labels
              'oracle_prior_mask_contrast': [9.0, 9.5, 8.5],
              'aux_contrast': [4.0, 3.0, 3.5],
              # headroom 5 of which the statistics fill 3: 2 left (< 3)
              'random_vgg16': [1.0, 1.0, 1.0],
              'random_bn_stats_vgg16': [4.0, 4.0, 4.0],
              'supervised_vgg16': [6.0, 6.0, 6.0],
              # trained on the labels: its own oracle, never "best"
              'mix_match': [6.5, 7.0, 6.0],
              'shuffled_prior_mix_match': [2.0, 2.0, 2.0]}
    for name, values in probes.items():
        for seed, value in zip(opts.pretrain_seeds, values):
            folder = tmp_path / name / 'eval'
            if seed != opts.pretrain_seeds[0]:
                folder = folder / f'seed{seed}'
            folder.mkdir(parents=True, exist_ok=True)
            json.dump({'val_mIoU': value}, open(folder / 'linear_probe.json',
                                                'w'))
    json.dump({'J': 40.0, 'F': 30.0}, open(
        tmp_path / 'random_resnet18' / 'eval' / 'davis_propagation.json',
        'w'))
    json.dump({'J': 41.0, 'F': 36.0}, open(
        tmp_path / 'supervised_resnet18' / 'eval' /
        'davis_propagation.json', 'w'))
    result = collect(opts, suite_stages(opts))
    rows = {r['name']: r for r in result['rows']}
    assert rows['mask_contrast']['linear_probe'] == pytest.approx(6.0)
    assert rows['mask_contrast']['linear_probe_std'] == pytest.approx(
        float(np.std([6.0, 6.5, 5.5])))
    headroom = result['controls']['headroom']['resnet18']
    # 15.0 - 3.5, and 15.0 - 5.5 over the data-statistics control
    assert headroom['linear_probe'] == {'headroom': pytest.approx(11.5),
                                        'separates': True,
                                        'over_bn_stats': pytest.approx(9.5),
                                        'separates_over_bn_stats': True}
    assert headroom['davis_J'] == {'headroom': 1.0, 'separates': False}
    assert result['controls']['headroom']['vgg16']['linear_probe'] == {
        'headroom': pytest.approx(5.0), 'separates': True,
        'over_bn_stats': pytest.approx(2.0),
        'separates_over_bn_stats': False}
    assert headroom['davis_F']['separates']
    verdicts = result['controls']['linear_probe_verdicts']
    # 6.0 vs 3.5: gap 2.5 > 2 x 0.41 (both stds); vs its control 6.0: 0
    assert verdicts['mask_contrast']['beats_random']
    # 6.0 vs 5.5 with the data's BN statistics: within the noise
    assert verdicts['mask_contrast']['gap_to_bn_stats'] == pytest.approx(0.5)
    assert not verdicts['mask_contrast']['beats_bn_stats']
    assert verdicts['mask_contrast']['gap_to_negative'] == pytest.approx(0)
    assert not verdicts['mask_contrast']['beats_negative']
    # the regime's power: the oracle prior 9.0 vs another image's 6.0
    assert verdicts['mask_contrast']['oracle_gap_to_negative'] == \
        pytest.approx(3.0)
    assert verdicts['mask_contrast']['oracle_beats_negative']
    assert 'oracle_gap_to_negative' not in verdicts['aux_contrast']
    assert verdicts['mix_match']['oracle_gap_to_negative'] == \
        verdicts['mix_match']['gap_to_negative'] == pytest.approx(4.5)
    assert not verdicts['aux_contrast']['beats_random']  # 3.5 vs 3.5
    assert 'gap_to_negative' not in verdicts['aux_contrast']  # not run
    text = render(result)
    assert '| resnet18 | 11.50 (9.50) |' in text
    assert '1.00 (cannot separate)' in text
    assert '| vgg16 | 5.00 (2.00, cannot separate) |' in text
    assert ('| MaskContrast | +2.50 | yes | +0.50 | no | +0.00 | no '
            '| +3.00 (separates) |') in text
    assert '| Auxiliary-label contrast | +0.00 | no | -2.00 | no | - | - ' \
        '| - |' in text
    assert '| +4.50 | yes | +4.50 (separates)* |' in text
    # the best row without labels per protocol, bold (not the oracle
    # control, 9.0, nor Mix-and-Match, 6.5: they are trained on labels); a
    # tie goes to the first row
    # (mask_contrast 6.0 = its negative control 6.0)
    best = result['controls']['best']
    assert best == {'linear_probe': 'mask_contrast',
                    'davis_J': 'random_resnet18',
                    'davis_F': 'random_resnet18'}
    assert '**6.00 ± 0.41 (3)**' in text and '**40.00**' in text
    assert 'linear probe: MaskContrast, resnet18_v1b (6.00)' in text
    # the picture: the rows with a probe, in table order, their means
    md = tmp_path / 'page.md'
    write_table(result, str(md), str(tmp_path / 'page.json'))
    assert '![linear probe of every row](page_linear_probe.png)' in \
        md.read_text()
    assert Image.open(tmp_path / 'page_linear_probe.png').size[0] > 100
    drawn = plot_linear_probe(result['rows'], str(tmp_path / 'p.png'))
    assert [(label.split('\n')[0], mean) for label, mean, _ in drawn] == [
        (r['title'], r['linear_probe']) for r in result['rows']
        if r['name'] in probes]


def test_cli_dry_run_and_report(tmp_path):
    out = tmp_path / 'bench.md'
    result = run_tool(sys.executable, 'tools/benchmark.py', '--work-dir',
                      str(tmp_path), '--dry-run')
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.count('[to run]') == len(suite_stages(
        SuiteOptions()))
    result = run_tool(sys.executable, 'tools/benchmark.py', '--work-dir',
                      str(tmp_path), '--report-only', '--out', str(out))
    assert result.returncode == 0, result.stdout[-3000:]
    assert json.load(open(tmp_path / 'bench.json'))['rows'][0]['name'] == \
        ROWS[0].name
    assert '| method |' in out.read_text()


def test_cli_reports_from_a_results_archive(tmp_path):
    """A machine without the suite's cache: --dry-run and --report-only
    take the archived records and results (a leaf's result is restored,
    a prior's quality report is read where it lies)."""
    from benchmarks.suite.stages import write_record
    from mmssl_seg.utils.io import write_json
    work, archive = tmp_path / 'work', tmp_path / 'archive'
    opts = SuiteOptions(work_dir=str(work))
    stages = {s.name: s for s in suite_stages(opts)}
    probe = stages['random_resnet18.linear_probe']
    write_record(probe, str(archive), REPO, status='done', wall_seconds=99.0)
    rel = osp.relpath(probe.outputs[0], str(work))
    write_json(str(archive / rel), {'val_mIoU': 12.5})
    write_json(str(archive / 'priors/aux_labels/aux_label_quality.json'),
               {'PmIoU': 39.75, 'K': 32})
    common = ('tools/benchmark.py', '--work-dir', str(work), '--results',
              str(archive))
    result = run_tool(sys.executable, *common, '--dry-run')
    assert result.returncode == 0, result.stdout[-3000:]
    assert f'[done] {probe.name}\n' in result.stdout
    assert result.stdout.count('[done]') == 1
    out = tmp_path / 'bench.md'
    result = run_tool(sys.executable, *common, '--report-only', '--out',
                      str(out))
    assert result.returncode == 0, result.stdout[-3000:]
    table = json.load(open(tmp_path / 'bench.json'))
    row = next(r for r in table['rows'] if r['name'] == 'random_resnet18')
    assert row['linear_probe_seeds'] == {'0': 12.5}
    assert table['stages'][probe.name]['wall_seconds'] == 99.0
    assert table['priors']['aux_labels']['PmIoU'] == 39.75
    assert 'PmIoU 39.75 (K=32)' in out.read_text()
    # the archive is read, never written, by a report
    assert sorted(p.name for p in archive.rglob('*.json')) == [
        'aux_label_quality.json', 'linear_probe.json',
        f'{probe.name}.json']


def test_only_runs_the_selected_stages(tmp_path):
    stages = [_counting_stage(tmp_path, 'prior'),
              _counting_stage(tmp_path, 'row', deps=('prior', ))]
    work = str(tmp_path / 'work')
    status = run_stages(stages, work, str(tmp_path), only=['row'])
    assert status == {'prior': 'not selected', 'row': 'blocked'}
    status = run_stages(stages, work, str(tmp_path), only=['pri'])
    assert status == {'prior': 'done', 'row': 'not selected'}
    assert run_stages(stages, work, str(tmp_path), only=['row'])['row'] \
        == 'done'


def test_mosaic_regime_builds_its_data_and_reports_its_floor(tmp_path):
    """The mosaic suite's data stage (tools/make_texture_mosaics.py) on a
    few real mosaics, the floor of its table computed independently, and
    the table's regime-specific columns."""
    opts = SuiteOptions(suite='mosaic', work_dir=str(tmp_path))
    assert (opts.pretrain_minutes, opts.finetune_iters) == (8.0, 120)
    assert SuiteOptions(suite='mosaic').work_dir == \
        'work_dirs/benchmark/mosaic'
    root = opts.mosaic_root
    argv = ('tools/make_texture_mosaics.py', root, '--num-train', '2',
            '--num-val', '4', '--size', '48')
    result = run_tool(sys.executable, *argv)
    assert result.returncode == 0, result.stdout[-3000:]
    ids = open(osp.join(root, 'val.txt')).read().split()
    labels = np.stack([np.array(Image.open(
        osp.join(root, 'annotations', 'val', f'{i}.png'))) for i in ids])
    counts = np.bincount(labels.ravel(), minlength=6)
    # constant prediction of class k: IoU_k = n_k / n, the other present
    # classes 0; the floor is the best k
    floor = majority_floor(root, 6)
    assert floor['label'] == int(counts.argmax())
    assert floor['mIoU'] == pytest.approx(
        100 * counts.max() / counts.sum() / (counts > 0).sum(), abs=1e-6)
    # a rerun with other parameters is refused, the data kept
    result = run_tool(sys.executable, *argv[:-1], '64')
    assert result.returncode != 0 and 'other parameters' in result.stdout
    text = render(collect(opts, suite_stages(opts)))
    assert '| K-means K=6 (Hungarian) | K-means K=24 (majority) |' in text
    assert 'DAVIS' not in text.split('## Controls')[0]
    assert f'scores {floor["mIoU"]:.2f} val mIoU' in text
    assert 'MaskContrast' not in text


def test_camvid_regime_reports_its_floor_on_the_real_frames(tmp_path):
    """The camvid regime's table on the real CamVid val labels: the floor
    (the commonest class everywhere, void not counted) computed here with
    numpy, K-means at the 11 classes and 4x over, no MaskContrast."""
    if not osp.isdir(CAMVID):
        pytest.skip(f'real data not found: {CAMVID}')
    opts = SuiteOptions(suite='camvid', work_dir=str(tmp_path),
                        camvid_root=CAMVID)
    assert (opts.pretrain_minutes, opts.finetune_iters) == (4.0, 250)
    ids = open(osp.join(CAMVID, 'val.txt')).read().split()
    labels = np.stack([np.array(Image.open(
        osp.join(CAMVID, 'labels', 'val', f'{i}.png'))) for i in ids])
    counts = np.bincount(labels[labels != 255].ravel(), minlength=11)
    assert len(ids) == 101 and counts.size == 11
    floor = majority_floor(CAMVID, 11, 'labels')
    assert floor['label'] == int(counts.argmax())
    assert floor['mIoU'] == pytest.approx(
        100 * counts.max() / counts.sum() / (counts > 0).sum(), abs=1e-6)
    text = render(collect(opts, suite_stages(opts)))
    assert '| K-means K=11 (Hungarian) | K-means K=44 (majority) |' in text
    assert f'scores {floor["mIoU"]:.2f} val mIoU' in text
    assert 'MaskContrast' not in text and 'DAVIS' not in text.split(
        '## Controls')[0]


def test_horses_regime_reports_its_floor_on_the_real_photographs(tmp_path):
    """The horses regime's table on the converted val photographs: the
    floor (background everywhere) computed here with numpy, K-means at the
    2 classes and 4x over, MaskContrast from MoCo v2 beside MoCo v2 alone
    and MaskContrast from random init, no Mix-and-Match."""
    from mmssl_seg.datasets.weizmann_horse import (
        build_weizmann_horses,
        read_split,
    )
    if not osp.isdir(HORSES):
        pytest.skip(f'real data not found: {HORSES}')
    opts = SuiteOptions(suite='horses', work_dir=str(tmp_path),
                        horse_source=HORSES)
    assert (opts.pretrain_minutes, opts.finetune_iters) == (6.0, 250)
    ids = read_split('val')
    build_weizmann_horses(HORSES, opts.horse_root, long_side=160,
                          splits={'val': ids})
    counts = sum(np.bincount(np.array(Image.open(osp.join(
        opts.horse_root, 'annotations', 'val', f'{i}.png'))).ravel(),
        minlength=2) for i in ids)
    floor = majority_floor(opts.horse_root, 2)
    assert floor['label'] == 0 == int(counts.argmax())
    assert floor['mIoU'] == pytest.approx(
        100 * counts[0] / counts.sum() / 2, abs=1e-6)
    # MaskContrast is judged against the MoCo v2 weights it starts from
    for row, values in (('mask_contrast', (60, 61, 62)),
                        ('mmpretrain_mocov2', (50, 51, 52))):
        for seed, value in enumerate(values):
            out = tmp_path / row / 'eval' / (f'seed{seed}' if seed else '')
            out.mkdir(parents=True, exist_ok=True)
            json.dump({'val_mIoU': value}, open(out / 'linear_probe.json',
                                                'w'))
    text = render(collect(opts, suite_stages(opts)))
    assert '| K-means K=2 (Hungarian) | K-means K=8 (majority) |' in text
    assert f'scores {floor["mIoU"]:.2f} val mIoU' in text
    for title in ('MaskContrast from MoCo v2', 'MaskContrast from random '
                  'init', 'MMPretrain MoCo v2 (stock)'):
        assert f'| {title} |' in text, title
    assert 'Mix-and-Match' not in text
    assert ('MaskContrast from MoCo v2 against the weights it starts from '
            '(MMPretrain MoCo v2 (stock)): +10.00, beyond twice the larger '
            'std.') in text
    assert text.count('against the weights it starts from') == 1


@pytest.mark.parametrize('suite', sorted(REGIMES))
def test_every_pretraining_hands_off_to_its_evaluation_segmentor(
        suite, tmp_path):
    """Each row's extraction stage, run as the suite writes it, on a
    checkpoint of the row's own pretraining model: a pretraining whose
    backbone variant is not its evaluation segmentor's (MaskContrast's 7x7
    stem evaluated in the deep-stem DeepLabV3) fails here, not hours into
    a suite run."""
    import importlib.util

    import torch

    from mmssl_seg.models.builder import build_model
    spec = importlib.util.spec_from_file_location(
        'extract_pretrained',
        osp.join(REPO, 'tools/model_converters/extract_pretrained.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    work = str(tmp_path / 'w')
    stages = suite_stages(SuiteOptions(suite=suite, work_dir=work))
    by_name = {s.name: s for s in stages}
    checked = {}
    for stage in stages:
        if not stage.name.endswith('.extract'):
            continue
        config = by_name[stage.deps[0]].argv[1]
        key = (config, stage.argv[3:])  # the controls share a pretraining
        if key in checked:
            continue
        src, dst = stage.argv[1], stage.argv[2]
        os.makedirs(osp.dirname(src), exist_ok=True)
        model = build_model(osp.join(REPO, config))
        torch.save({'state_dict': model.state_dict(), 'meta': {}}, src)
        assert tool.main(list(stage.argv[1:])) == 0, stage.name
        weights = torch.load(dst, weights_only=True)['state_dict']
        assert weights and all(k.startswith('backbone.') for k in weights)
        checked[key] = stage.name
        # one pretraining's files at a time, not all (1 GB for voc12_mini)
        os.remove(src)
        os.remove(dst)
    # every pretraining config of the regime was handed off
    assert ({c for c, _ in checked}
            == {by_name[f'{r.name}.pretrain'].argv[1]
                for r in REGIMES[suite].rows
                if r.pretrained and not r.source}), checked


def test_voc12_mini_runs_only_at_a_gpu_scale(tmp_path):
    """voc12_mini cannot separate methods on 2 CPU cores: running it at
    scale 1 needs --cpu-budget (dry runs and reports read it freely)."""
    result = run_tool(sys.executable, 'tools/benchmark.py', '--work-dir',
                      str(tmp_path), '--only', 'nothing')
    assert result.returncode == 2
    assert 'cannot separate methods at CPU budgets' in result.stdout
    for extra in (('--scale', '4'), ('--cpu-budget', )):
        result = run_tool(sys.executable, 'tools/benchmark.py', '--work-dir',
                          str(tmp_path), '--only', 'nothing', *extra)
        assert 'cannot separate' not in result.stdout
        assert 'stages not done' in result.stdout, result.stdout[-2000:]
