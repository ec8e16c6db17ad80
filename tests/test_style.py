"""The code passes the pre-commit lint (ruff: pyflakes, pycodestyle, import
order; settings in ruff.toml), so a style slip fails CI, not a review."""
from __future__ import annotations

import os.path as osp
import shutil
import subprocess
import sys

from tests.conftest import REPO


def test_ruff_passes() -> None:
    # the venv's ruff sits next to its python even when the venv is not active
    ruff = shutil.which('ruff', path=osp.dirname(sys.executable)) \
        or shutil.which('ruff')
    assert ruff, 'ruff is missing: it is in requirements/tests.txt'
    result = subprocess.run([ruff, 'check', '--no-cache', '.'], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _doc_paths() -> list[tuple[str, str]]:
    """(document, path) for every backticked repository path in our
    Markdown (README, method READMEs, docs)."""
    import glob
    import re
    docs = ['README.md', *glob.glob(osp.join(REPO, 'configs', '*',
                                             'README.md')),
            *glob.glob(osp.join(REPO, 'docs', '*.md'))]
    found = []
    for doc in docs:
        text = open(osp.join(REPO, doc)).read()
        for token in re.findall(r'`([^`\s]+)`', text):
            path = token.rstrip('/').split(':')[0]
            if re.match(r'^(mmssl_seg|tools|configs|benchmarks|docs|tests|'
                        r'requirements)/[\w./-]+$', path):
                found.append((osp.relpath(osp.join(REPO, doc), REPO), path))
    return found


def test_paths_named_in_the_docs_exist() -> None:
    paths = _doc_paths()
    assert len(paths) > 50  # the check sees the docs' paths
    missing = [f'{doc}: {path}' for doc, path in paths
               if not osp.exists(osp.join(REPO, path))
               and not osp.exists(osp.join(REPO, osp.dirname(doc), path))]
    assert not missing, '\n'.join(missing)


def test_readme_is_read_in_five_minutes() -> None:
    """What a new user reads first stays short; measured prose lives in
    docs/ and the method READMEs."""
    lines = open(osp.join(REPO, 'README.md')).read().splitlines()
    assert len(lines) <= 150, len(lines)
    text = '\n'.join(lines)
    for link in ('docs/results.md', 'docs/usage.md', 'docs/quickstart.md',
                 'benchmarks/README.md', 'configs/mask_contrast/README.md'):
        assert link in text, link
