"""Cached, resumable stages: each is one command line of this project's
tools, run in a subprocess with its own log; a stage whose record says done,
for the same command and the same config files, after its dependencies, and
whose outputs exist is skipped on rerun."""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import os.path as osp
import shlex
import shutil
import subprocess
import sys
import time
from typing import Callable, Iterable, Mapping, Sequence

from mmssl_seg.utils.io import write_json

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


def config_digest(files: Sequence[str], repo_root: str) -> str:
    """sha256 over the contents of ``files`` (:func:`config_files`): an
    edited config (e.g. a method's momentum) makes its stages run again
    although their command lines are unchanged."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.encode() + b'\0')
        with open(osp.join(repo_root, path), 'rb') as f:
            digest.update(f.read() + b'\0')
    return digest.hexdigest()


def is_done(stage: Stage, work_dir: str, repo_root: str = '.') -> bool:
    """Done means: the record says so, for the same command and config
    files, no dependency finished after it, and the outputs exist (a
    changed option or config, a rerun dependency or a deleted output runs
    it again). Records without a config digest (written before there was
    one) are not done."""
    record = read_record(work_dir, stage.name)
    if (record is None or record.get('status') != 'done'
            or record.get('command') != stage.command()
            or record.get('configs_sha256') != config_digest(
                config_files(stage.argv, repo_root), repo_root)
            or not all(osp.exists(p) for p in stage.outputs)):
        return False
    for dep in stage.deps:
        earlier = read_record(work_dir, dep)
        if earlier is not None and earlier.get('finished', '') > record.get(
                'finished', ''):
            return False
    return True


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
               python: str = sys.executable) -> dict[str, str]:
    """Run every stage not yet done, in order.

    A failed stage is recorded (return code, log) and its dependants are
    skipped; independent stages still run. Reruns skip finished stages and
    retry failed ones.

    Args:
        only: Name prefixes to restrict to (their dependencies must be done).

    Returns:
        ``{name: 'cached' | 'done' | 'failed' | 'blocked' | 'not selected'}``.
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
    status: dict[str, str] = {}
    with Progress(TextColumn('{task.description}'), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn()) as progress:
        bar = progress.add_task('benchmark', total=len(stages))

        def say(text: str, **kwargs) -> None:
            progress.console.print(text, soft_wrap=True, highlight=False,
                                   **kwargs)

        for stage in stages:
            progress.update(bar, description=f'benchmark: {stage.name}')
            status[stage.name] = _next(stage, status, work_dir, repo_root,
                                       only, python, say)
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
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.run([python, *stage.argv], cwd=repo_root, env=env,
                              stdout=f, stderr=subprocess.STDOUT)
    seconds = time.time() - start
    missing = [p for p in stage.outputs if not osp.exists(p)]
    ok = proc.returncode == 0 and not missing
    configs = config_files(stage.argv, repo_root)
    write_json(record_path(work_dir, stage.name), {
        'name': stage.name, 'kind': stage.kind, 'command': stage.command(),
        'configs': configs,
        'configs_sha256': config_digest(configs, repo_root),
        'status': 'done' if ok else 'failed',
        'returncode': proc.returncode, 'missing_outputs': missing,
        'wall_seconds': round(seconds, 1), 'log': log,
        'finished': datetime.datetime.now().isoformat(
            timespec='milliseconds')})
    if not ok:
        why = (f'exit {proc.returncode}' if proc.returncode else
               f'no {missing}')
        say(f'[failed] {stage.name}: {why}; see {log}', markup=False)
    return 'done' if ok else 'failed'
