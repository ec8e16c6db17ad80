"""A region tree stored compactly per image (hierarchical grouping, sec. 3).

The finest regions (at most ``max_leaves``, 40 in the paper) are the leaves;
``leaves`` maps every pixel to its leaf, ``parents`` and ``altitudes`` hold
the merge tree in topological order (children before parents, the root last
and its own parent).

The region distance d_T(R_a, R_b) is read at the lowest common ancestor of
two leaves, in one of two ways (``D_T``):

* ``level`` (default for sampling): the level of the hierarchy at which they
  merge (the paper's Fig. 1). OWT-UCM "repeatedly removes the weakest edge
  separating two regions" (sec. 3): each removal makes the next, coarser
  level of the hierarchy, so the level of a merge is its rank among the
  distinct merge altitudes (1 = the first merge, leaves at 0; merges at
  equal altitude happen at the same level). With sigma_p = 0.8, eqs. 2-3
  then separate near from far regions.
* ``altitude``: the boundary strength at which they merge in the
  ultrametric contour map (UCM), in [0, 1]. With sigma_p = 0.8 it spans
  exp(-d / 0.8) in [0.29, 1] only, so eqs. 2-3 are nearly uniform
  (``tools/analysis/tree_pair_stats.py`` measures both).
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass

import numpy as np

from mmssl_seg.utils.io import atomic_path

FORMAT = 1

#: The readings of d_T (see the module docstring).
D_T = ('level', 'altitude')
#: Leaves a tree can store (``leaves`` is uint8).
MAX_LEAVES = 256


@dataclass
class RegionTree:
    """Args:
        leaves: ``H x W`` uint8 leaf index of every pixel.
        parents: ``(2 * k - 1, )`` or shorter (non-binary merges) parent of
            every node; leaves are ``0..k-1``.
        altitudes: Merge altitude of every node (0 for leaves).
    """

    leaves: np.ndarray
    parents: np.ndarray
    altitudes: np.ndarray

    @property
    def num_leaves(self) -> int:
        return int(self.leaves.max()) + 1 if self.leaves.size else 0

    @classmethod
    def from_ultrametric(cls, leaves: np.ndarray,
                         dist: np.ndarray) -> 'RegionTree':
        """The tree of a leaf map (values ``0..k-1``) and a ``k x k``
        ultrametric between its leaves: single linkage, which for an
        ultrametric merges every pair at exactly its distance."""
        from scipy.cluster.hierarchy import linkage
        from scipy.spatial.distance import squareform
        k = len(dist)
        if k > MAX_LEAVES:
            raise ValueError(f'{k} leaves: a region tree stores at most '
                             f'{MAX_LEAVES}')
        leaves = leaves.astype(np.uint8)
        if k == 1:
            return cls(leaves, np.zeros(1, np.int64),
                       np.zeros(1, np.float32))
        merges = linkage(squareform(dist, checks=False), method='single')
        parents = np.arange(2 * k - 1)
        altitudes = np.zeros(2 * k - 1, np.float32)
        for i, (a, b, height, _) in enumerate(merges):
            parents[int(a)] = parents[int(b)] = k + i
            altitudes[k + i] = height
        return cls(leaves, parents, altitudes)

    def ancestors(self) -> np.ndarray:
        """``nodes x nodes`` boolean: ``[n, m]`` is m an ancestor of n (or
        n itself)."""
        n = len(self.parents)
        up = np.eye(n, dtype=bool)
        for node in range(n - 1, -1, -1):  # parents come after children
            parent = int(self.parents[node])
            if parent != node:
                up[node] |= up[parent]
        return up

    def levels(self) -> np.ndarray:
        """Level of every node: 0 for leaves, for a merge the rank of its
        altitude among the distinct merge altitudes (1 = first merge)."""
        k = self.num_leaves
        levels = np.zeros(len(self.altitudes), np.int64)
        merges = self.altitudes[k:]
        levels[k:] = np.searchsorted(np.unique(merges), merges) + 1
        return levels

    def distances(self, d_t: str = 'altitude') -> np.ndarray:
        """``k x k`` float32 d_T read at the lowest common ancestor (the
        common ancestor of smallest index, as parents follow their
        children), 0 on the diagonal.

        Args:
            d_t: ``altitude`` (the UCM value) or ``level`` (the merge's
                level in the hierarchy); see the module docstring.
        """
        if d_t not in D_T:
            raise ValueError(f'd_t must be one of {D_T}, got {d_t!r}')
        k = self.num_leaves
        up = self.ancestors()[:k]
        common = up[:, None, :] & up[None, :, :]
        lowest = common.argmax(axis=2)  # first True = smallest index
        height = self.altitudes if d_t == 'altitude' else self.levels()
        dist = height[lowest].astype(np.float32)
        np.fill_diagonal(dist, 0)
        return dist

    def cut(self, threshold: float) -> np.ndarray:
        """The partition at ``threshold``: leaves whose d_T <= threshold
        share a label (the UCM thresholded)."""
        up = self.ancestors()[:self.num_leaves]
        below = up & (self.altitudes <= threshold)[None]
        # the highest ancestor still below the threshold names the region
        top = len(self.parents) - 1 - below[:, ::-1].argmax(axis=1)
        _, labels = np.unique(top, return_inverse=True)
        return labels[self.leaves]

    def boundaries(self) -> np.ndarray:
        """The UCM on the pixel grid: a pixel carries d_T to its right or
        lower neighbour where their leaves differ (the larger of the two)."""
        dist = self.distances()
        out = np.zeros(self.leaves.shape, np.float32)
        right = dist[self.leaves[:, :-1], self.leaves[:, 1:]]
        down = dist[self.leaves[:-1], self.leaves[1:]]
        out[:, :-1] = right
        out[:-1] = np.maximum(out[:-1], down)
        return out

    def save(self, path: str) -> None:
        with atomic_path(path) as tmp:
            with open(tmp, 'wb') as f:
                np.savez_compressed(
                    f, format=FORMAT, leaves=self.leaves.astype(np.uint8),
                    parents=self.parents.astype(np.int16),
                    altitudes=self.altitudes.astype(np.float32))

    @classmethod
    def load(cls, path: str) -> 'RegionTree':
        """Read a tree written by :meth:`save`; errors name the file."""
        try:
            with np.load(path) as data:
                if int(data['format']) != FORMAT:
                    raise KeyError(f'format {data["format"]}, this version '
                                   f'reads {FORMAT}')
                tree = cls(data['leaves'], data['parents'].astype(np.int64),
                           data['altitudes'])
        except FileNotFoundError:
            raise FileNotFoundError(f'region tree missing: {path}') from None
        except (KeyError, OSError, EOFError, ValueError,
                zipfile.BadZipFile) as error:
            raise ValueError(f'region tree unreadable: {path} ({error})'
                             ) from None
        if len(tree.parents) != len(tree.altitudes) or \
                tree.num_leaves > len(tree.parents):
            raise ValueError(f'region tree inconsistent: {path}')
        return tree
