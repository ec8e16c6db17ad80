"""The data-statistics control: a model's weights (random init for the
baseline) with every batch-norm layer's running statistics recomputed on the
training images, without labels or gradients.

Frozen protocols (linear probe, K-means) run the backbone in eval mode. A
random-init backbone then normalises with its init statistics (mean 0,
variance 1), which mis-scale every stage's output; any pretraining on the
data replaces them as a side effect. This control gives random weights the
data's statistics, so that a method's gain over it is what its weights
learned. Measured in the mosaic regime (linear probe, 3 seeds): random init
49.3, the same random weights with the train images' statistics 64.9 - as
much as the self-supervised methods' whole gain.

The statistics are PreciseBN's (Wu & Johnson, "Rethinking 'Batch' in
BatchNorm", 2021; MMPretrain's ``PreciseBNHook``): the mean over batches of
each batch's mean and unbiased variance, computed with the earlier layers
normalising by batch statistics, as in training. MMPretrain's
``update_bn_stats`` is not called: it runs MMSeg's data preprocessor in test
mode, which refuses a batch of crops of different sizes (voc12_mini images
smaller than the crop are padded only in training mode), and it updates
only the layers its caller left in training mode, restoring no mode.
"""
from __future__ import annotations

import datetime
from typing import Iterable, Sequence

import torch
from rich.progress import track
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


@torch.no_grad()
def recompute_bn_statistics(model: nn.Module,
                            batches: Iterable[dict]) -> int:
    """Replace the running mean and variance of every batch-norm layer of
    ``model`` by their means over ``batches`` (PreciseBN); weights, modes
    and momenta are left as they were.

    Args:
        model: An mmengine model: each batch goes through its
            ``data_preprocessor`` and its ``forward`` in ``tensor`` mode.
        batches: Data batches as a dataloader yields them.

    Returns:
        The number of batches seen.
    """
    layers = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    if not layers:
        raise ValueError(f'{type(model).__name__} has no batch-norm layer')
    modes = {m: m.training for m in model.modules()}
    momenta = [m.momentum for m in layers]
    for layer in layers:
        # momentum None: PyTorch keeps the plain average over batches
        layer.reset_running_stats()
        layer.momentum = None
    model.train()
    count = 0
    try:
        for data in batches:
            # as in training (crops padded to the config's crop size)
            data = model.data_preprocessor(data, True)
            model(**data, mode='tensor')
            count += 1
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        for module, training in modes.items():
            module.training = training
    if count == 0:
        raise ValueError('no batch to compute batch-norm statistics from')
    return count


def bn_statistics_checkpoint(config: str,
                             checkpoint: str | None,
                             out: str,
                             parts: Sequence[str] = ('backbone', ),
                             seed: int = 0,
                             num_batches: int | None = None,
                             allow_missing: Sequence[str] = ()) -> dict:
    """Write ``parts`` of ``config``'s model with ``checkpoint``'s weights
    (random init, seeded, when None) and batch-norm statistics recomputed on
    the config's ``train_dataloader`` (its pipeline, batch size and
    sampler), as a tensors-only file.

    Args:
        num_batches: Batches to average over; default: one pass over the
            training set.

    Returns:
        The file's meta.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner, set_random_seed

    from mmssl_seg.checkpoint.io import save_tensors_only
    from mmssl_seg.checkpoint.loading import load_model
    from mmssl_seg.utils.io import sha256_of

    cfg = Config.fromfile(config)
    set_random_seed(seed)
    model = load_model(cfg, checkpoint, required=tuple(parts),
                       allow_missing=allow_missing)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader_cfg = cfg.train_dataloader.copy()
    # in this process: the same batches for the same seed
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=seed)
    if num_batches is None:
        num_batches = -(-len(loader.dataset) // loader.batch_size)
    batches = (batch for _, batch in zip(range(num_batches), loader))
    seen = recompute_bn_statistics(
        model, track(batches, total=num_batches,
                     description='batch-norm statistics', transient=True))
    state = {k: v for k, v in model.state_dict().items()
             if k.split('.', 1)[0] in parts}
    meta = {
        'source': checkpoint or 'random init',
        'source_sha256': sha256_of(checkpoint) if checkpoint else '',
        'target_config': config,
        'parts': ','.join(parts),
        'seed': seed,
        'bn_statistics': f'PreciseBN over {seen} train batches of '
        f'{loader.batch_size}',
        'created': datetime.datetime.now().isoformat(timespec='seconds'),
        'tool': 'mmssl_seg bn_statistics',
    }
    save_tensors_only(state, out, meta)
    return meta
