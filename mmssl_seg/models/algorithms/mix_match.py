from __future__ import annotations

import torch
from mmseg.registry import MODELS

from mmssl_seg.models.algorithms.base import BaseSelfSupervised
from mmssl_seg.models.utils.patch_sampler import PatchSampler
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

    The random choices of a step (patches, graph) come from the base's
    per-step generator on the images' device, so a resumed run draws what
    the uninterrupted run would have drawn, and the whole step keeps fixed
    shapes (``N x patches_per_image`` nodes, masks for what is missing):
    nothing waits for the host.

    Args:
        backbone: The network to tune (``mmpretrain.VGG`` with BN in the
            paper).
        sampler: :class:`PatchSampler` arguments.
        triplets: ``class_connected`` (the paper's graph, Fig. 3b) or
            ``random`` (Schroff et al.'s selection, the ablation).
        head: :class:`TripletHead` config (the loss).
        seed: Base seed of the per-step generator.
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
        if triplets not in TRIPLET_SAMPLERS:
            raise ValueError(f'triplets must be one of '
                             f'{list(TRIPLET_SAMPLERS)}, got {triplets}')
        super().__init__(backbone, head=head, seed=seed,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.sampler = PatchSampler(**sampler)
        self.triplets = triplets
        # batches that gave no triplet (void only, or a single class)
        self.register_buffer('degenerate', torch.zeros((), dtype=torch.long))

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        labels = torch.stack([s.gt_sem_seg.data[0] for s in data_samples])
        generator = self.generator(inputs.device)
        patches = self.sampler(inputs, labels, generator)
        triplets = TRIPLET_SAMPLERS[self.triplets](patches.labels,
                                                   patches.valid, generator)
        self.advance_step()
        features = self.dense_features(patches.images, 'backbone')
        losses = self.head.loss(features, triplets.indices, triplets.valid)
        self.degenerate += ~triplets.valid.any()
        kept = patches.valid.sum().float()
        losses.update(
            patches=kept,
            no_negative=triplets.no_negative.float(),
            degenerate_batches=self.degenerate.float(),
            # the graph's size per image (10 in the paper; fewer only for
            # void)
            patches_per_image=kept / len(inputs))
        return losses
