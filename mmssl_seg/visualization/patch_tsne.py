"""Patch features in 2-D (Mix-and-Match paper Fig. 4): patches of the val
images, sampled as in training and labelled by their centre pixel, encoded by
one or more models (e.g. before and after tuning), embedded with t-SNE and
drawn coloured by class, one panel per model.

Each panel also gets a number: the leave-one-out 5-nearest-neighbour class
accuracy of the patch features (cosine), so "classes separate better after
tuning" is measured, not only seen.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from rich.progress import track

from mmssl_seg.models.builder import preprocess
from mmssl_seg.models.utils.patch_sampler import PatchSampler
from mmssl_seg.utils.io import atomic_path


def sample_patches(dataset, sampler: PatchSampler, num_images: int,
                   size: int = 256, seed: int = 0
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Patches (``P x 3 x S x S``, BGR 0..255) and labels of the first
    ``num_images`` images, each resized to ``size x size`` first."""
    generator = torch.Generator().manual_seed(seed)
    images, labels = [], []
    for i in track(range(min(num_images, len(dataset))),
                   description='patches'):
        info = dataset.get_data_info(i)
        img = cv2.imread(info['img_path'])
        if img is None:
            raise FileNotFoundError(f'image missing: {info["img_path"]}')
        # PIL keeps palette PNGs (VOC) as indices; cv2 would make them RGB
        gt = np.array(Image.open(info['seg_map_path']))
        if gt.shape != img.shape[:2]:
            raise ValueError(f'{info["seg_map_path"]} is {gt.shape}, its '
                             f'image is {img.shape[:2]}')
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)
        gt = cv2.resize(gt, (size, size), interpolation=cv2.INTER_NEAREST)
        patches = sampler(
            torch.from_numpy(img).permute(2, 0, 1)[None].float(),
            torch.from_numpy(gt.astype(np.int64))[None], generator)
        images.append(patches.images[patches.valid])
        labels.append(patches.labels[patches.valid])
    return torch.cat(images), torch.cat(labels)


@torch.no_grad()
def encode_patches(model, patches: torch.Tensor,
                   batch_size: int = 64) -> torch.Tensor:
    """Flattened, L2-normalised last backbone output of every patch (the
    features the triplet loss sees, eq. 2)."""
    out = []
    for start in range(0, len(patches), batch_size):
        x = preprocess(model, patches[start:start + batch_size])
        feats = model.backbone(x)
        feats = feats[-1] if isinstance(feats, (list, tuple)) else feats
        out.append(F.normalize(feats.flatten(1), dim=1))
    return torch.cat(out)


def knn_accuracy(features: torch.Tensor, labels: torch.Tensor,
                 k: int = 5) -> float:
    """Leave-one-out k-NN (cosine) class accuracy, in percent."""
    sim = features @ features.T
    sim.fill_diagonal_(-float('inf'))
    neighbours = labels[sim.topk(min(k, len(labels) - 1), dim=1).indices]
    votes = F.one_hot(neighbours, int(labels.max()) + 1).sum(1)
    return float((votes.argmax(1) == labels).float().mean() * 100)


def draw_patch_tsne(models: Sequence, names: Sequence[str], dataset,
                    sampler: PatchSampler, path: str, num_images: int = 100,
                    perplexity: float = 30.0, seed: int = 0) -> dict:
    """One t-SNE panel per model of the same val patches; returns the
    k-NN accuracies and counts."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    patches, labels = sample_patches(dataset, sampler, num_images, seed=seed)
    classes = dataset.metainfo['classes']
    palette = np.asarray(dataset.metainfo['palette'], dtype=float) / 255
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 5.4),
                             squeeze=False)
    result = {'patches': len(labels), 'images': num_images, 'models': {}}
    for ax, model, name in zip(axes[0], models, names):
        features = encode_patches(model, patches)
        accuracy = knn_accuracy(features, labels)
        points = TSNE(n_components=2, perplexity=min(perplexity,
                                                     len(labels) - 1),
                      init='pca', random_state=seed).fit_transform(
                          features.numpy())
        for c in labels.unique().tolist():
            mine = (labels == c).numpy()
            ax.scatter(points[mine, 0], points[mine, 1], s=6,
                       color=palette[c % len(palette)], label=classes[c])
        ax.set_title(f'{name}\n5-NN patch accuracy {accuracy:.1f} %')
        ax.set_xticks([])
        ax.set_yticks([])
        result['models'][name] = {'knn5_accuracy': accuracy}
    handles, texts = axes[0, -1].get_legend_handles_labels()
    fig.legend(handles, texts, loc='center right', fontsize=7,
               markerscale=2)
    fig.tight_layout(rect=(0, 0, 0.88, 1))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    result['path'] = path
    return result
