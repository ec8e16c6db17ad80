from __future__ import annotations

import torch
from mmseg.registry import MODELS

from mmssl_seg.models.algorithms.base import BaseSelfSupervised
from mmssl_seg.models.utils.patch_sampler import PatchSampler
from mmssl_seg.models.utils.seeding import step_generator
from mmssl_seg.models.utils.triplet_graph import TRIPLET_SAMPLERS


@MODELS.register_module()
class MixMatch(BaseSelfSupervised):
    """Mix-and-Match tuning (Zhan et al., AAAI 2018): mix -> backbone ->
    match.

    The whole step::

        patches, labels = mix(images, label maps)     # 10 per image
        x = backbone(patches)[-1]                     # pool5
        triplets = graph(labels)                      # class-wise connected
        loss = head(x, triplets)                      # eq. 1

    A batch that yields no triplet (only void, or a single class) gives a
    loss of 0 with a zero gradient and counts in the logged
    ``degenerate_batches``; ``patches_per_image`` logs the graph's size.

    The random choices of an iteration (patches, graph) come from a
    generator seeded with the registered ``steps`` counter and ``seed``, so
    a resumed run draws what the uninterrupted run would have drawn.

    Args:
        backbone: The network to tune (``mmpretrain.VGG`` with BN in the
            paper).
        sampler: :class:`PatchSampler` arguments.
        triplets: ``class_connected`` (the paper's graph, Fig. 3b) or
            ``random`` (Schroff et al.'s selection, the ablation).
        head: :class:`TripletHead` config (the loss).
        seed: Base seed of the per-iteration generator.
        data_preprocessor: ``SegDataPreProcessor`` (it pads labels too).
    """

    def __init__(self,
                 backbone: dict,
                 sampler: dict = dict(),
                 triplets: str = 'class_connected',
                 head: dict = dict(type='TripletHead'),
                 seed: int = 0,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if triplets not in TRIPLET_SAMPLERS:
            raise ValueError(f'triplets must be one of '
                             f'{list(TRIPLET_SAMPLERS)}, got {triplets}')
        self.backbone = MODELS.build(backbone)
        self.sampler = PatchSampler(**sampler)
        self.triplets = triplets
        self.head = MODELS.build(head)
        self.seed = seed
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))
        # batches that gave no triplet (void only, or a single class)
        self.register_buffer('degenerate', torch.zeros((), dtype=torch.long))

    def patch_features(self, patches: torch.Tensor) -> torch.Tensor:
        """The backbone's last output for a batch of patches."""
        return self.dense_features(patches, 'backbone')

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        labels = torch.stack([s.gt_sem_seg.data[0] for s in data_samples])
        generator = step_generator(self.seed, self.steps)
        self.steps += 1
        patches = self.sampler(inputs, labels, generator)
        triplets, stats = TRIPLET_SAMPLERS[self.triplets](
            patches.labels.cpu(), generator)
        if len(patches.labels) == 0:  # nothing but void: a defined zero
            # that still reaches every parameter (the optimizer and DDP
            # expect a graph)
            losses = {'loss_triplet': sum(p.sum() for p in
                                          self.parameters()) * 0.0,
                      'triplets': inputs.new_zeros(())}
        else:
            losses = self.head.loss(self.patch_features(patches.images),
                                    triplets)
        if len(triplets) == 0:
            self.degenerate += 1
        losses.update(
            patches=inputs.new_tensor(float(len(patches.labels))),
            no_negative=inputs.new_tensor(float(stats['no_negative'])),
            degenerate_batches=self.degenerate.float(),
            # the graph's size per image (10 in the paper; fewer only for
            # void)
            patches_per_image=inputs.new_tensor(
                len(patches.labels) / len(inputs)))
        return losses
