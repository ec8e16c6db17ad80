"""Cached, resumable stages: each is one command line of this project's
tools, run in a subprocess with its own log; a stage whose record says done,
for the same command, config files, code (:mod:`.code`) and dependencies'
keys, and whose outputs exist is skipped on rerun. A results archive
(records and JSON results, small enough to commit) lets a suite go on on
another machine."""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import os.path as osp
import platform
import shlex
import shutil
import subprocess
import sys
import time
from typing import Callable, Iterable, Mapping, Sequence

from mmssl_seg.utils.io import atomic_path, write_json

from .code import code_files, commit, files_digest

Say = Callable[..., None]


@dataclasses.dataclass(frozen=True)
class Stage:
    """One step of a suite.

    Args:
        name: Unique, ``<row or prior>.<step>``, e.g.
            ``mask_contrast.pretrain``.
        argv: The command after ``python`` (a tool path and its arguments),
            run from the repository root.
        outputs: Files the command leaves behind; the stage is done only if
            they all exist.
        deps: Names of stages that must have succeeded first.
        env: Extra environment variables (config placeholders such as
            ``SALIENCY_DIR``).
        kind: ``prior``, ``pretrain`` or ``eval`` (how the report groups
            wall times).
        scratch: Folders only this stage writes, removed before it runs
            again after it had finished (e.g. a linear probe's runs, which
            the probe refuses to reuse for other weights; a prior tool's
            folder, which it refuses to continue with other inputs).
    """
    name: str
    argv: tuple[str, ...]
    outputs: tuple[str, ...]
    deps: tuple[str, ...] = ()
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    kind: str = 'eval'
    scratch: tuple[str, ...] = ()

    def command(self) -> str:
        """The shell line a user can paste (environment included)."""
        prefix = ' '.join(f'{k}={shlex.quote(v)}'
                          for k, v in sorted(self.env.items()))
        line = shlex.join(('python', *self.argv))
        return f'{prefix} {line}' if prefix else line


def record_path(work_dir: str, name: str) -> str:
    return osp.join(work_dir, 'stages', f'{name}.json')


def read_record(work_dir: str, name: str) -> dict | None:
    path = record_path(work_dir, name)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def config_files(argv: Sequence[str], repo_root: str) -> list[str]:
    """The config files a command reads: its ``.py`` arguments after the
    tool and, recursively, their ``_base_`` files in this repository
    (``mmseg::``-style bases belong to the pinned packages)."""
    from mmengine.config import Config
    todo = [osp.normpath(a) for a in argv[1:]
            if a.endswith('.py') and osp.isfile(osp.join(repo_root, a))]
    found: list[str] = []
    while todo:
        path = todo.pop()
        if path in found:
            continue
        found.append(path)
        for base in Config._get_base_files(osp.join(repo_root, path)):
            if '::' not in base:
                todo.append(
                    osp.normpath(osp.join(osp.dirname(path), base)))
    return sorted(found)


def stage_key(stage: Stage, repo_root: str) -> dict[str, object]:
    """What a stage's result depends on in this checkout: its command
    line, its config files (:func:`config_files`) and the digest of their
    contents, and the digest of the code it runs (:func:`.code.code_files`:
    the tool and the package files it reaches)."""
    configs = config_files(stage.argv, repo_root)
    code = code_files(stage.argv, configs, repo_root)
    return {'command': stage.command(), 'configs': configs,
            'configs_sha256': files_digest(configs, repo_root),
            'code_sha256': files_digest(code, repo_root)}


def record_key(record: Mapping) -> str:
    """What a stage's result stands for: its command, its configs, its code
    and, in turn, its dependencies' keys when it ran. A stage run again
    with the same key (its files were gone) leaves its dependants' results
    standing; a new key (an edited config or loss upstream) makes them
    stale."""
    text = json.dumps([record.get('command'), record.get('configs_sha256'),
                       record.get('code_sha256'),
                       sorted(record.get('deps_keys', {}).items())])
    return hashlib.sha256(text.encode()).hexdigest()


def is_current(stage: Stage, work_dir: str, repo_root: str = '.') -> bool:
    """The record says done, for the same command, config files and code
    (:func:`stage_key`), and every dependency's record has the key it had
    when this stage ran (a record older than code keys has none: stale);
    its outputs may be gone (a results archive keeps records, not
    checkpoints)."""
    record = read_record(work_dir, stage.name)
    if record is None or record.get('status') != 'done':
        return False
    key = stage_key(stage, repo_root)
    if any(record.get(k) != key[k]
           for k in ('command', 'configs_sha256', 'code_sha256')):
        return False
    for dep in stage.deps:
        earlier = read_record(work_dir, dep)
        if earlier is not None and record.get('deps_keys', {}).get(
                dep) != record_key(earlier):
            return False
    return True


def stale(stages: Sequence[Stage], work_dir: str,
          repo_root: str = '.') -> set[str]:
    """The stages that are not current (:func:`is_current`) and everything
    downstream of them: what an edit makes run again."""
    found = {s.name for s in stages
             if not is_current(s, work_dir, repo_root)}
    for stage in stages:  # in dependency order
        if any(d in found for d in stage.deps):
            found.add(stage.name)
    return found


def outputs_exist(stage: Stage) -> bool:
    """Every output of ``stage`` is on disk."""
    return all(osp.exists(p) for p in stage.outputs)


def is_done(stage: Stage, work_dir: str, repo_root: str = '.') -> bool:
    """Done means: current (:func:`is_current`) and the outputs exist (a
    changed option, config or code, here or upstream, or a deleted output
    runs it again). Records without a code digest (written before there
    was one) are not done."""
    return is_current(stage, work_dir, repo_root) and outputs_exist(stage)


def plan(stages: Sequence[Stage], work_dir: str,
         repo_root: str = '.') -> dict[str, str]:
    """``{name: 'done' | 'to run' | 'not needed'}``. A stage that is not
    current (:func:`is_current`) runs, and so does everything downstream of
    it; a current stage whose files are gone runs again only if it is a
    leaf (its outputs are the result) or a stage that runs reads it, and
    its dependants keep their results. 'Not needed': current, its files
    gone, nothing to run reads them (e.g. a pretraining whose evaluations
    a results archive holds)."""
    run = stale(stages, work_dir, repo_root)
    done = {s.name: s.name not in run and outputs_exist(s) for s in stages}
    dependants: dict[str, list[str]] = {s.name: [] for s in stages}
    for stage in stages:
        for dep in stage.deps:
            dependants[dep].append(stage.name)
    run |= {s.name for s in stages
            if not done[s.name] and not dependants[s.name]}
    for stage in reversed(stages):
        if not done[stage.name] and any(d in run
                                        for d in dependants[stage.name]):
            run.add(stage.name)
    return {s.name: ('to run' if s.name in run else
                     'done' if done[s.name] else 'not needed')
            for s in stages}


#: Outputs a results archive keeps: JSON files of at most this size.
RESULT_MAX_BYTES = 1 << 20


def _result_files(stage: Stage, work_dir: str) -> list[str]:
    """The outputs of ``stage`` a results archive keeps, relative to
    ``work_dir`` (small JSON files inside it; never checkpoints)."""
    files = []
    for path in stage.outputs:
        rel = osp.relpath(path, work_dir)
        if (path.endswith('.json') and not rel.startswith('..')
                and osp.isfile(path)
                and osp.getsize(path) <= RESULT_MAX_BYTES):
            files.append(rel)
    return files


def _copy(source: str, target: str) -> None:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def save_results(stages: Sequence[Stage], work_dir: str,
                 results: str) -> int:
    """Copy every done stage's record and result files (:func:`
    _result_files`) into ``results``, laid out like ``work_dir``: a folder
    small enough to commit, so that a suite longer than one machine's life
    goes on elsewhere (:func:`restore_results`). Returns how many stages
    were written."""
    written = 0
    for stage in stages:
        record = read_record(work_dir, stage.name)
        if record is None or record.get('status') != 'done':
            continue
        if read_record(results, stage.name) == record:
            continue
        for rel in _result_files(stage, work_dir):
            _copy(osp.join(work_dir, rel), osp.join(results, rel))
        write_json(record_path(results, stage.name), record)  # last
        written += 1
    return written


def restore_results(stages: Sequence[Stage], work_dir: str,
                    results: str) -> list[str]:
    """Bring records (and results) from a results archive into a work dir
    that lacks them. A leaf stage (nothing depends on it) gets its result
    files back and is done; any other stage gets its record only: its
    outputs (priors, checkpoints) are not in the archive, so it runs again
    if a stage that runs needs it (:func:`plan`) and is not needed
    otherwise. The cache checks still apply: a changed command or config
    runs a restored stage again. Returns the names restored."""
    needed = {dep for stage in stages for dep in stage.deps}
    restored = []
    for stage in stages:
        record = read_record(results, stage.name)
        if (record is None or record.get('status') != 'done'
                or read_record(work_dir, stage.name) is not None):
            continue
        if stage.name not in needed:
            for path in stage.outputs:
                rel = osp.relpath(path, work_dir)
                source = osp.join(results, rel)
                if osp.isfile(source) and not osp.exists(path):
                    _copy(source, path)
        write_json(record_path(work_dir, stage.name), record)
        restored.append(stage.name)
    return restored


def check_stages(stages: Sequence[Stage]) -> None:
    """Names unique, dependencies known and earlier in the list."""
    seen: set[str] = set()
    for stage in stages:
        if stage.name in seen:
            raise ValueError(f'stage {stage.name!r} appears twice')
        unknown = [d for d in stage.deps if d not in seen]
        if unknown:
            raise ValueError(f'stage {stage.name!r} depends on {unknown}, '
                             'which are not earlier stages')
        seen.add(stage.name)


def run_stages(stages: Sequence[Stage],
               work_dir: str,
               repo_root: str,
               only: Iterable[str] | None = None,
               python: str = sys.executable,
               results: str | None = None) -> dict[str, str]:
    """Run every stage not yet done, in order.

    A failed stage is recorded (return code, log) and its dependants are
    skipped; independent stages still run. Reruns skip finished stages and
    retry failed ones, and a stage whose files are gone but whose
    dependants are all done (:func:`plan`) is not run again.

    Args:
        only: Name prefixes to restrict to (their dependencies must be
            done); a selected stage that is not done runs.
        results: A results archive (:func:`save_results`): what the work
            dir lacks is restored from it first, and every stage that
            finishes is saved to it at once.

    Returns:
        ``{name: 'cached' | 'done' | 'failed' | 'blocked' | 'not selected'}``
        ('cached': done before, or not needed).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    check_stages(stages)
    only = tuple(only or ())
    if results:
        restore_results(stages, work_dir, results)
        save_results(stages, work_dir, results)  # run before there was one
    skip = ({n for n, state in plan(stages, work_dir, repo_root).items()
             if state == 'not needed'} if not only else set())
    status: dict[str, str] = {}
    with Progress(TextColumn('{task.description}'), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn()) as progress:
        bar = progress.add_task('benchmark', total=len(stages))

        def say(text: str, **kwargs) -> None:
            progress.console.print(text, soft_wrap=True, highlight=False,
                                   **kwargs)

        for stage in stages:
            progress.update(bar, description=f'benchmark: {stage.name}')
            status[stage.name] = ('cached' if stage.name in skip else _next(
                stage, status, work_dir, repo_root, only, python, say))
            if results and status[stage.name] == 'done':
                save_results([stage], work_dir, results)
            progress.advance(bar)
    return status


def _next(stage: Stage, status: Mapping[str, str], work_dir: str,
          repo_root: str, only: tuple[str, ...], python: str,
          say: Say) -> str:
    if is_done(stage, work_dir, repo_root):
        return 'cached'
    if only and not stage.name.startswith(only):
        return 'not selected'
    missing = [d for d in stage.deps
               if status.get(d) not in ('cached', 'done')]
    if missing:
        say(f'[blocked] {stage.name}: needs {missing}', markup=False)
        return 'blocked'
    return _run(stage, work_dir, repo_root, python, say)


def stage_identity(stage: Stage, work_dir: str,
                   repo_root: str) -> dict[str, object]:
    """What a run of ``stage`` stands for, taken when it starts (an edit
    while it runs must not be credited to it): its key
    (:func:`stage_key`), its dependencies' keys and the commit."""
    deps_keys = {}
    for dep in stage.deps:
        earlier = read_record(work_dir, dep)
        if earlier is not None:
            deps_keys[dep] = record_key(earlier)
    return {**stage_key(stage, repo_root), 'deps_keys': deps_keys,
            'commit': commit(repo_root)}


def write_record(stage: Stage, work_dir: str, repo_root: str,
                 identity: Mapping[str, object] | None = None,
                 **outcome: object) -> dict:
    """Write the record of a stage that has run: its ``identity`` (default:
    :func:`stage_identity` now), the machine, and ``outcome`` (``status``,
    ``wall_seconds``, ...)."""
    if identity is None:
        identity = stage_identity(stage, work_dir, repo_root)
    record = {
        'name': stage.name, 'kind': stage.kind, **identity, **outcome,
        'machine': f'{platform.node()}, {os.cpu_count()} CPU cores',
        'finished': datetime.datetime.now().isoformat(
            timespec='milliseconds')}
    write_json(record_path(work_dir, stage.name), record)
    return record


def _run(stage: Stage, work_dir: str, repo_root: str, python: str,
         say: Say) -> str:
    log = osp.join(work_dir, 'logs', f'{stage.name}.log')
    os.makedirs(osp.dirname(log), exist_ok=True)
    previous = read_record(work_dir, stage.name)
    if previous and previous.get('status') == 'done':
        # finished before and stale now (see is_done): the tools refuse to
        # replace a result or to mix in other inputs, and the suite owns
        # these files (a failed stage keeps them: its tool resumes)
        for path in stage.outputs if stage.kind == 'eval' else ():
            if osp.isfile(path):
                os.remove(path)
        for folder in stage.scratch:
            shutil.rmtree(folder, ignore_errors=True)
    say(f'[run] {stage.name}  (log: {log})\n      {stage.command()}',
        markup=False)
    env = dict(os.environ, **stage.env)
    identity = stage_identity(stage, work_dir, repo_root)
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.run([python, *stage.argv], cwd=repo_root, env=env,
                              stdout=f, stderr=subprocess.STDOUT)
    seconds = time.time() - start
    missing = [p for p in stage.outputs if not osp.exists(p)]
    ok = proc.returncode == 0 and not missing
    record = {
        'status': 'done' if ok else 'failed',
        'returncode': proc.returncode, 'missing_outputs': missing,
        'wall_seconds': round(seconds, 1), 'log': log}
    write_record(stage, work_dir, repo_root, identity, **record)
    if not ok:
        why = (f'exit {proc.returncode}' if proc.returncode else
               f'no {missing}')
        say(f'[failed] {stage.name}: {why}; see {log}', markup=False)
    return 'done' if ok else 'failed'
