"""Which of this repository's Python files a stage runs, so that a stage's
record stands for the code it ran: an edited loss makes exactly the stages
that run it (and their dependants) stale, and no others.

The files are found statically, without importing anything:

- the tool (the command's ``.py`` after ``python``);
- the modules that define the registered types its configs and options
  name (``type='AuxContrast'`` -> ``models/algorithms/aux_contrast.py``),
  found by their ``@REGISTRY.register_module()`` decorators;
- recursively, what those files import from ``mmssl_seg``. A package's
  ``__init__.py`` is a hub: it is part of the code, but what it imports
  only to re-export (``from .aux_contrast import AuxContrast``) is followed
  by the names a file takes from it, not all at once; what its own
  statements use (``compat.install_import_shims()``) is followed. Without
  this rule every tool would depend on every file, because
  ``import mmssl_seg`` registers all modules.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import os
import os.path as osp
import re
import subprocess
from typing import Iterable, Sequence

#: The package whose files a stage's code key covers (the pinned
#: OpenMMLab packages are covered by the environment, not by the key).
PACKAGE = 'mmssl_seg'

_TYPE = re.compile(r"""(?:\btype\s*=\s*|['"]type['"]\s*:\s*)['"]?"""
                   r"""([A-Za-z_][\w.]*)""")


@functools.lru_cache(maxsize=None)
def _modules(repo_root: str) -> dict[str, str]:
    """``{dotted module name: path relative to repo_root}`` for the
    package (a package's name maps to its ``__init__.py``)."""
    found = {}
    for folder, dirs, files in os.walk(osp.join(repo_root, PACKAGE)):
        dirs[:] = sorted(d for d in dirs if not d.startswith(('.', '_')))
        rel = osp.relpath(folder, repo_root)
        for name in files:
            if not name.endswith('.py'):
                continue
            parts = rel.split(os.sep)
            if name != '__init__.py':
                parts.append(name[:-3])
            found['.'.join(parts)] = osp.join(rel, name)
    return found


@functools.lru_cache(maxsize=None)
def _parse(path: str, mtime: float) -> ast.Module:
    with open(path, 'rb') as f:
        return ast.parse(f.read(), filename=path)


def _tree(repo_root: str, rel: str) -> ast.Module:
    path = osp.join(repo_root, rel)
    return _parse(path, os.stat(path).st_mtime)


def _package_of(rel: str) -> str:
    """The package a file's relative imports start from."""
    return '.'.join(osp.dirname(rel).split(os.sep))


def _absolute(node: ast.ImportFrom, rel: str) -> str:
    if not node.level:
        return node.module or ''
    parts = _package_of(rel).split('.')
    base = parts[:len(parts) - node.level + 1]
    return '.'.join(base + ([node.module] if node.module else []))


@functools.lru_cache(maxsize=None)
def _registered(repo_root: str) -> dict[str, str]:
    """``{registered name: file}``: classes and functions decorated with a
    registry's ``register_module()`` (``name=`` honoured)."""
    names = {}
    for rel in _modules(repo_root).values():
        for node in ast.walk(_tree(repo_root, rel)):
            if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                continue
            for deco in node.decorator_list:
                if (isinstance(deco, ast.Call)
                        and isinstance(deco.func, ast.Attribute)
                        and deco.func.attr == 'register_module'):
                    name = next((k.value.value for k in deco.keywords
                                 if k.arg == 'name'
                                 and isinstance(k.value, ast.Constant)),
                                node.name)
                    names[name] = rel
    return names


def _used_names(tree: ast.Module) -> set[str]:
    """Names a module's own statements (not its imports) use."""
    used = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        used |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    return used


def _defined_names(tree: ast.Module) -> set[str]:
    """Names a module's own top-level statements define."""
    defined = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            defined.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            defined |= {t.id for t in stmt.targets
                        if isinstance(t, ast.Name)}
    return defined


class _Closure:
    """The package files reachable from some start files (module doc)."""

    def __init__(self, repo_root: str) -> None:
        self.root = repo_root
        self.modules = _modules(repo_root)
        self.files: set[str] = set()
        self.followed: set[str] = set()

    def module(self, name: str) -> None:
        """Depend on module ``name`` (a package: its hub file only)."""
        rel = self.modules.get(name)
        if rel is None:
            return
        self.files.add(rel)
        if rel.endswith('__init__.py'):
            self.hub(rel)
        else:
            self.follow(rel)

    def follow(self, rel: str) -> None:
        """Depend on everything ``rel`` imports."""
        if rel in self.followed:
            return
        self.followed.add(rel)
        self.files.add(rel)
        for node in ast.walk(_tree(self.root, rel)):
            self.edge(node, rel, None)

    def hub(self, rel: str, wanted: Iterable[str] = ()) -> None:
        """A package's ``__init__``: follow what its own statements use and
        the ``wanted`` names it re-exports (all of it, if it defines one of
        them itself)."""
        self.files.add(rel)
        tree = _tree(self.root, rel)
        if set(wanted) & _defined_names(tree):
            self.follow(rel)
            return
        names = _used_names(tree) | set(wanted)
        for node in tree.body:
            self.edge(node, rel, names)

    def edge(self, node: ast.AST, rel: str, names: set[str] | None) -> None:
        """Follow one import statement (only the ``names`` it binds, if
        given)."""
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = (alias.asname or alias.name).split('.')[0]
                if names is None or bound in names:
                    self.module(alias.name)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, rel)
            if source.split('.')[0] != PACKAGE:
                return
            for alias in node.names:
                if names is not None and alias.name != '*' and (
                        alias.asname or alias.name) not in names:
                    continue
                self.name(source, alias.name)

    def name(self, source: str, name: str) -> None:
        """``from source import name``: a submodule, or an attribute of a
        module (its file) or of a package (resolved through its hub)."""
        if name != '*' and f'{source}.{name}' in self.modules:
            self.module(f'{source}.{name}')
            return
        rel = self.modules.get(source)
        if rel is None:
            return
        if not rel.endswith('__init__.py') or name == '*':
            self.follow(rel)
        else:
            self.hub(rel, {name})


def code_files(argv: Sequence[str], configs: Sequence[str],
               repo_root: str) -> list[str]:
    """The repository's Python files that the command ``python *argv``
    runs (module doc), relative to ``repo_root``: its tool, and the package
    files reachable from it and from the registered types that its
    ``configs`` (:func:`config_files`) and its options name."""
    closure = _Closure(repo_root)
    tool = argv[0] if argv else ''
    if tool.endswith('.py') and osp.isfile(osp.join(repo_root, tool)):
        closure.follow(osp.normpath(tool))
    text = ' '.join(argv[1:])
    for config in configs:
        with open(osp.join(repo_root, config)) as f:
            text += '\n' + f.read()
    registered = _registered(repo_root)
    for name in set(_TYPE.findall(text)):
        rel = registered.get(name.rsplit('.', 1)[-1])
        if rel is not None:
            closure.follow(rel)
    return sorted(closure.files)


def files_digest(files: Sequence[str], repo_root: str) -> str:
    """sha256 over the paths and contents of ``files`` (relative to
    ``repo_root``): a stage's configs or its code."""
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode() + b'\0')
        with open(osp.join(repo_root, rel), 'rb') as f:
            digest.update(f.read() + b'\0')
    return digest.hexdigest()


def commit(repo_root: str) -> str | None:
    """The checkout's commit, ``+dirty`` when tracked files of the package,
    the tools or the configs differ from it; None outside a git checkout.
    Recorded to name what a result ran, never part of a key (a commit that
    touches only other files must not make results stale)."""
    def git(*args: str) -> str:
        return subprocess.run(
            ['git', '-C', repo_root, *args], capture_output=True, text=True,
            check=True).stdout.strip()

    try:
        head = git('rev-parse', 'HEAD')
        dirty = git('status', '--porcelain', '--untracked-files=no', '--',
                    PACKAGE, 'tools', 'configs')
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ('+dirty' if dirty else '')
