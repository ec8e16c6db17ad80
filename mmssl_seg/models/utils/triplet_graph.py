"""Triplets for Mix-and-Match tuning (Zhan et al., AAAI 2018).

``class_connected_triplets`` builds the paper's perceptual patch graph
(Fig. 3b): nodes are absorbed one at a time in random order, each new node
gets one attractive edge to an existing node of its class and one rejective
edge to an existing node of another class when such nodes exist. Every node
of a class is then linked to an earlier one of the same class, so each class
forms one connected subgraph (a tree). Every node is an anchor exactly once,
its positive and negative drawn from its own edges: a node whose label is
unique is duplicated as its own positive, and a node that received no
rejective edge while being absorbed (it came before any other class) gets one
to a random node of another class. So #triplets = #nodes whenever two classes
are present.

``random_triplets`` is the ablation baseline (Schroff et al. 2015): each
anchor takes a random positive and a random negative, with no graph.
"""
from __future__ import annotations

import torch


def _randint(n: int, generator: torch.Generator) -> int:
    return int(torch.randint(n, (1, ), generator=generator))


def _pick(candidates: list[int], generator: torch.Generator) -> int:
    return candidates[_randint(len(candidates), generator)]


def _pick_other(pool: list[int], labels: list, label,
                generator: torch.Generator) -> int:
    """A uniformly random member of ``pool`` whose label differs from
    ``label`` (rejection sampling; the caller ensures one exists)."""
    for _ in range(64):
        m = pool[_randint(len(pool), generator)]
        if labels[m] != label:
            return m
    return _pick([m for m in pool if labels[m] != label], generator)


def class_connected_graph(labels: torch.Tensor,
                          generator: torch.Generator | None = None
                          ) -> tuple[list[set], list[set]]:
    """Attractive and rejective neighbour sets of every node (undirected)."""
    generator = generator or torch.Generator().manual_seed(0)
    labels = labels.tolist()
    n = len(labels)
    attract = [set() for _ in range(n)]
    reject = [set() for _ in range(n)]
    seen: list[int] = []
    by_class: dict = {}
    for node in torch.randperm(n, generator=generator).tolist():
        label = labels[node]
        same = by_class.setdefault(label, [])
        if same:
            m = _pick(same, generator)
            attract[node].add(m)
            attract[m].add(node)
        if len(seen) > len(same):
            m = _pick_other(seen, labels, label, generator)
            reject[node].add(m)
            reject[m].add(node)
        seen.append(node)
        same.append(node)
    if len(by_class) > 1:
        for node in range(n):  # nodes absorbed before any other class
            if not reject[node]:
                m = _pick_other(seen, labels, labels[node], generator)
                reject[node].add(m)
                reject[m].add(node)
    return attract, reject


def class_connected_triplets(labels: torch.Tensor,
                             generator: torch.Generator | None = None
                             ) -> tuple[torch.Tensor, dict]:
    """``T x 3`` (anchor, positive, negative) indices from the graph.

    Returns:
        The triplets and statistics: ``unique`` (nodes that are their own
        positive) and ``no_negative`` (nodes without any other class; with a
        single class in the batch there is no triplet at all).
    """
    generator = generator or torch.Generator().manual_seed(0)
    attract, reject = class_connected_graph(labels, generator)
    rows, unique, no_negative = [], 0, 0
    for node in range(len(labels)):
        if not reject[node]:
            no_negative += 1
            continue
        if attract[node]:
            positive = _pick(sorted(attract[node]), generator)
        else:
            positive = node  # a unique label is its own positive
            unique += 1
        rows.append((node, positive, _pick(sorted(reject[node]), generator)))
    triplets = torch.tensor(rows, dtype=torch.long).view(-1, 3)
    return triplets, {'unique': unique, 'no_negative': no_negative}


def random_triplets(labels: torch.Tensor,
                    generator: torch.Generator | None = None
                    ) -> tuple[torch.Tensor, dict]:
    """One triplet per node with a random positive (itself if its label is
    unique) and a random negative, without a graph (the ablation)."""
    generator = generator or torch.Generator().manual_seed(0)
    labels = labels.tolist()
    everyone = list(range(len(labels)))
    by_class: dict = {}
    for node, label in enumerate(labels):
        by_class.setdefault(label, []).append(node)
    rows, unique, no_negative = [], 0, 0
    for node, label in enumerate(labels):
        same = by_class[label]
        if len(same) == len(labels):
            no_negative += 1
            continue
        if len(same) == 1:
            positive = node
            unique += 1
        else:  # a random other member of the class
            positive = same[(same.index(node) + 1 + _randint(
                len(same) - 1, generator)) % len(same)]
        rows.append((node, positive,
                     _pick_other(everyone, labels, label, generator)))
    triplets = torch.tensor(rows, dtype=torch.long).view(-1, 3)
    return triplets, {'unique': unique, 'no_negative': no_negative}


TRIPLET_SAMPLERS = {
    'class_connected': class_connected_triplets,
    'random': random_triplets,
}
