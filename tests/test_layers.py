"""The package's layers: a module imports only from its own layer or lower
ones (data flows priors -> datasets -> models -> evaluation; the prior
generators and the tools sit on top). Read from the source, so it stays
true."""
from __future__ import annotations

import ast
import os
import os.path as osp

from tests.conftest import REPO

#: Lowest first. ``compat``, ``version`` and ``registry`` sit with ``utils``.
LAYERS = ['utils', 'structures', 'datasets', 'models', 'checkpoint', 'engine',
          'evaluation', 'visualization', 'priors', 'apis']
RANK = {name: i for i, name in enumerate(LAYERS)}
RANK.update(compat=0, version=0, registry=0)


def _imports(path: str, module: str) -> set[str]:
    """Modules of ours that ``path`` imports (a name imported from a package
    counts as the submodule when it is one)."""
    package = module.split('.') if path.endswith('__init__.py') else \
        module.split('.')[:-1]
    found = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names
                      if a.name.startswith('mmssl_seg')}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package[:len(package) - node.level + 1]
                base = '.'.join(parts + ([base] if base else []))
            if base.startswith('mmssl_seg'):
                found |= {f'{base}.{a.name}' if base == 'mmssl_seg' else base
                          for a in node.names}
    return found


def _layer(module: str) -> int | None:
    parts = module.split('.')
    return RANK.get(parts[1]) if len(parts) > 1 else None


def test_no_module_imports_a_higher_layer():
    root = osp.join(REPO, 'mmssl_seg')
    violations, layers_seen = [], set()
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            module = osp.relpath(path, REPO)[:-3].replace(os.sep, '.')
            module = module.removesuffix('.__init__')
            own = _layer(module)
            if own is None:  # the package root (__init__, launch) sits on top
                continue
            layers_seen.add(module.split('.')[1])
            for target in _imports(path, module):
                rank = _layer(target)
                assert rank is not None, f'{module} imports {target}'
                if rank > own:
                    violations.append(f'{module} -> {target}')
    assert not violations, '\n'.join(violations)
    assert layers_seen >= set(LAYERS)  # every layer exists and is checked


def _module_graph() -> dict[str, set[str]]:
    """Our modules (packages by their ``__init__``) -> the ones they import
    anywhere in their source (function-level imports included: a cycle
    hidden in a function is still a cycle)."""
    root = osp.join(REPO, 'mmssl_seg')
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith('.py'):
                path = osp.join(folder, name)
                module = osp.relpath(path, REPO)[:-3].replace(os.sep, '.')
                files[module.removesuffix('.__init__')] = path
    graph = {}
    for module, path in files.items():
        targets = set()
        for target in _imports(path, module):
            while target not in files and '.' in target:
                target = target.rsplit('.', 1)[0]  # a name in a module
            if target in files and target != module:
                targets.add(target)
        graph[module] = targets
    return graph


def test_no_import_cycle():
    """No module reaches itself through its imports, except a package
    through its own submodules (``__init__`` re-exports them)."""
    graph = _module_graph()
    cycles = []

    def inside(package: str, module: str) -> bool:
        return module.startswith(package + '.')

    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for target in graph[node]:
                if target == start and not all(
                        inside(start, m) for m in path[1:]):
                    cycles.append(' -> '.join(path + [start]))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, path + [target]))
    assert not cycles, '\n'.join(sorted(set(cycles))[:10])
