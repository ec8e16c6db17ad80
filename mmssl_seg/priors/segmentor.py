"""A trained two-class MMSeg segmentor as a prior: the probability of class
1 at the image's size. It is the bootstrapped saliency network (salient vs
background) and this project's contour detector (boundary vs not)."""
from __future__ import annotations

import os.path as osp

import numpy as np

from mmssl_seg.checkpoint.io import weights_sha256


class SegmentorProbability:
    """The class-1 probability map of a trained two-class segmentor, built
    lazily (prior tools fork their workers first; a model is not
    picklable).

    Args:
        config: The segmentor's config.
        checkpoint: Its weights (read with ``weights_only=True``; every weight
            of the model must be in it).
        pipeline_key: A pipeline of the config applied to the image first
            (e.g. ``saliency_pipeline``: a resize; its loading step is
            skipped); ``None`` packs the image as it is.
    """

    def __init__(self, config: str, checkpoint: str,
                 pipeline_key: str | None = None) -> None:
        for path in (config, checkpoint):
            if not osp.isfile(path):
                raise FileNotFoundError(f'segmentor file not found: {path}')
        self.config = config
        self.checkpoint = checkpoint
        self.pipeline_key = pipeline_key
        # by content: weights retrained in place are another prior
        self.weights_sha256 = weights_sha256(checkpoint)
        self._model = None
        self._pipeline = None

    @property
    def params(self) -> dict:
        return {'config': osp.abspath(self.config),
                'checkpoint': osp.abspath(self.checkpoint),
                'weights_sha256': self.weights_sha256}

    def _load(self) -> None:
        from mmcv.transforms import Compose
        from mmengine.config import Config
        from mmengine.registry import init_default_scope

        from mmssl_seg.checkpoint.loading import load_weights
        from mmssl_seg.models.builder import build_model
        cfg = Config.fromfile(self.config)
        init_default_scope('mmseg')
        model = build_model(cfg)
        load_weights(model, self.checkpoint, [
            n for n, _ in model.named_children()
            if n != 'data_preprocessor'])
        model.eval()
        steps = [t for t in cfg.get(self.pipeline_key, [])
                 if t['type'] != 'LoadImageFromFile'] if self.pipeline_key \
            else []
        if not steps or steps[-1]['type'] != 'PackSegInputs':
            steps.append(dict(type='PackSegInputs'))
        self._model, self._pipeline = model, Compose(steps)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """``H x W`` float32 probability of class 1 for a BGR image."""
        import torch
        from mmengine.dataset import pseudo_collate
        if self._model is None:
            self._load()
        shape = image.shape[:2]
        data = self._pipeline(dict(img=image, img_shape=shape,
                                   ori_shape=shape))
        with torch.no_grad():
            result = self._model.test_step(pseudo_collate([data]))[0]
        return result.seg_logits.data.softmax(0)[1].numpy().astype(
            np.float32)
