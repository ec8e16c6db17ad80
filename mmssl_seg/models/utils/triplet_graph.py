"""Triplets for Mix-and-Match tuning (Zhan et al., AAAI 2018).

``class_connected_triplets`` builds the paper's perceptual patch graph
(Fig. 3b) as the authors' ``GraphToTripletLayer`` does: the nodes are
absorbed one at a time in a random order, and each new node makes one
attractive edge to a uniformly random earlier node of its class and one
rejective edge to a uniformly random earlier node of another class, where
such nodes exist. Each class is thereby one connected subgraph (a tree).
Every node is an anchor once, with the two edges it made as its positive and
negative. A node that found no earlier node of its class takes a random
other node of its class, or itself when its label is unique (the paper's
duplication); one that found no earlier node of another class takes a
random node of another class. With a single class in the batch a node has
no negative and no triplet (the authors feed a zero vector instead; the
paper is silent).

``random_triplets`` is the ablation baseline (Schroff et al. 2015): each
anchor takes a random positive and a random negative, with no graph.

Both work on fixed-size masks on the labels' device (no host round trip):
a uniform choice among the True entries of a row is the argmax of random
keys there.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Triplets:
    """One (anchor, positive, negative) row per node."""
    indices: torch.Tensor  # P x 3
    valid: torch.Tensor  # P, bool: the node has a triplet
    order: torch.Tensor  # P, the absorption rank of each node (graph only)
    unique: torch.Tensor  # 0-d: nodes that are their own positive
    no_negative: torch.Tensor  # 0-d: valid nodes without another class


def _choose(mask: torch.Tensor, generator: torch.Generator
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """A uniformly random True column of each row of ``mask`` and whether
    the row has one."""
    keys = torch.rand(mask.shape, generator=generator, device=mask.device)
    return torch.where(mask, keys, -1.0).argmax(1), mask.any(1)


def _relations(labels: torch.Tensor, valid: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    both = valid[:, None] & valid[None, :]
    same = labels[:, None] == labels[None, :]
    itself = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & both & ~itself, ~same & both


def _triplets(anchor_valid: torch.Tensor, positive: torch.Tensor,
              has_positive: torch.Tensor, negative: torch.Tensor,
              has_negative: torch.Tensor, order: torch.Tensor) -> Triplets:
    nodes = torch.arange(len(positive), device=positive.device)
    positive = torch.where(has_positive, positive, nodes)
    valid = anchor_valid & has_negative
    return Triplets(
        indices=torch.stack([nodes, positive, negative], 1),
        valid=valid, order=order,
        unique=(valid & ~has_positive).sum(),
        no_negative=(anchor_valid & ~has_negative).sum())


def class_connected_triplets(labels: torch.Tensor,
                             valid: torch.Tensor | None = None,
                             generator: torch.Generator | None = None
                             ) -> Triplets:
    """The graph's triplets for nodes with ``labels`` (``P``); nodes with
    ``valid`` False take no part."""
    generator = generator or torch.Generator(labels.device).manual_seed(0)
    if valid is None:
        valid = torch.ones_like(labels, dtype=torch.bool)
    same, other = _relations(labels, valid)
    order = torch.randperm(len(labels), generator=generator,
                           device=labels.device).argsort()
    earlier = order[None, :] < order[:, None]  # column joined before row
    joined_pos, has_joined_pos = _choose(same & earlier, generator)
    any_pos, has_any_pos = _choose(same, generator)
    joined_neg, has_joined_neg = _choose(other & earlier, generator)
    any_neg, has_any_neg = _choose(other, generator)
    return _triplets(valid,
                     torch.where(has_joined_pos, joined_pos, any_pos),
                     has_any_pos,
                     torch.where(has_joined_neg, joined_neg, any_neg),
                     has_any_neg, order)


def random_triplets(labels: torch.Tensor, valid: torch.Tensor | None = None,
                    generator: torch.Generator | None = None) -> Triplets:
    """One triplet per node with a random positive (itself if its label is
    unique) and a random negative, without a graph (the ablation)."""
    generator = generator or torch.Generator(labels.device).manual_seed(0)
    if valid is None:
        valid = torch.ones_like(labels, dtype=torch.bool)
    same, other = _relations(labels, valid)
    positive, has_positive = _choose(same, generator)
    negative, has_negative = _choose(other, generator)
    return _triplets(valid, positive, has_positive, negative, has_negative,
                     torch.arange(len(labels), device=labels.device))


TRIPLET_SAMPLERS = {
    'class_connected': class_connected_triplets,
    'random': random_triplets,
}
