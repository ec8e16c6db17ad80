from __future__ import annotations

import torch
from mmengine.model import BaseModel
from mmseg.registry import MODELS

from mmssl_seg.models.utils.patch_sampler import PatchSampler
from mmssl_seg.models.utils.seeding import step_generator


@MODELS.register_module()
class MixMatch(BaseModel):
    """Mix-and-Match tuning (Zhan et al., AAAI 2018): mix -> backbone ->
    match.

    Each iteration samples patches from every labelled image of the batch
    (:class:`~mmssl_seg.models.utils.patch_sampler.PatchSampler`), encodes
    them with the backbone (its last output, pool5 for VGG16), and trains on
    the triplets of the class-wise connected graph
    (:class:`~mmssl_seg.models.heads.GraphTripletHead`).

    A batch that yields no triplet (only void, or a single class) gives a
    loss of 0 with a zero gradient and counts in the logged
    ``degenerate_batches``.

    The random choices of an iteration (patches, graph) come from a generator
    seeded with the registered ``steps`` counter and ``seed``, so a resumed
    run draws what the uninterrupted run would have drawn.

    Args:
        backbone: The network to tune (``mmpretrain.VGG`` with BN in the
            paper).
        sampler: :class:`PatchSampler` arguments.
        head: :class:`GraphTripletHead` config.
        seed: Base seed of the per-iteration generator.
        data_preprocessor: ``SegDataPreProcessor`` (it pads labels too).
    """

    def __init__(self,
                 backbone: dict,
                 sampler: dict = dict(),
                 head: dict = dict(type='GraphTripletHead'),
                 seed: int = 0,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.sampler = PatchSampler(**sampler)
        self.head = MODELS.build(head)
        self.seed = seed
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))
        # batches that gave no triplet (void only, or a single class)
        self.register_buffer('degenerate', torch.zeros((), dtype=torch.long))

    def _generator(self) -> torch.Generator:
        return step_generator(self.seed, self.steps)

    def patch_features(self, patches: torch.Tensor) -> torch.Tensor:
        """The backbone's last output for a batch of patches."""
        feats = self.backbone(patches)
        return feats[-1] if isinstance(feats, (list, tuple)) else feats

    @staticmethod
    def feature_parts(kind: str) -> tuple[str, ...]:
        """The parts that compute the ``kind`` features."""
        if kind != 'backbone':
            raise ValueError(f'MixMatch tunes a backbone only; no `{kind}`')
        return ('backbone', )

    def dense_features(self, inputs: torch.Tensor,
                       kind: str = 'backbone') -> torch.Tensor:
        if kind != 'backbone':
            raise ValueError(f'MixMatch tunes a backbone only; no `{kind}`')
        return self.patch_features(inputs)

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        labels = torch.stack([s.gt_sem_seg.data[0] for s in data_samples])
        generator = self._generator()
        self.steps += 1
        patches = self.sampler(inputs, labels, generator)
        if len(patches.labels) == 0:  # nothing but void: a defined zero
            # that still reaches every parameter (the optimizer and DDP
            # expect a graph)
            losses = {
                'loss_triplet':
                sum(p.sum() for p in self.parameters()) * 0.0,
                'triplets': inputs.new_zeros(()),
                'patches': inputs.new_zeros(()),
                'no_negative': inputs.new_zeros(()),
            }
        else:
            features = self.patch_features(patches.images)
            losses = self.head.loss(features, patches.labels, generator)
        if losses['triplets'] == 0:
            self.degenerate += 1
        losses['degenerate_batches'] = self.degenerate.float()
        # the graph's size per image (10 in the paper; fewer only for void)
        losses['patches_per_image'] = inputs.new_tensor(
            len(patches.labels) / len(inputs))
        return losses

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.patch_features(inputs)
        raise RuntimeError('MixMatch has no `predict` mode: it tunes a '
                           'backbone; fine-tune it with a segmentor')
