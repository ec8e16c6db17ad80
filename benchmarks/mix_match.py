"""Mix-and-Match's own cost: graph construction + triplet loss (forward and
backward) for 160 nodes (the paper's 16 images x 10 patches) and 1600, and
the patch sampler's throughput on real VOC images.

    python benchmarks/mix_match.py [--repeats 5] [--device cpu|cuda]
        [--out benchmarks/results/mix_match.json]

Features are pool5 of 128x128 patches (512 x 4 x 4 = 8192-d); labels are
drawn from 21 classes. Sampler: 16 voc12_mini train images resized to
512x512, 10 patches each (sides 64-256) resized to 128x128. Targets: graph
and loss well under the backbone's time for the same patches (a VGG16-BN
forward+backward of 160 128x128 patches is seconds on CPU); the sampler
well above the backbone's patches per second.
"""
import argparse
import os.path as osp
import time

import cv2
import numpy as np
import torch
from common import DATA, write_result
from PIL import Image

from mmssl_seg.models.losses import TripletRankingLoss
from mmssl_seg.models.utils import PatchSampler, class_connected_triplets

VOC = osp.join(DATA, 'voc12_mini/VOCdevkit/VOC2012')


def timed(fn, repeats, device):
    times = []
    for _ in range(repeats + 1):  # the first run warms up
        if device == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times[1:]))


def voc_batch(n, size, device):
    ids = open(osp.join(VOC, 'ImageSets/Segmentation/train.txt')).read(
    ).split()[:n]
    images, labels = [], []
    for i in ids:
        img = cv2.resize(cv2.imread(osp.join(VOC, 'JPEGImages', i + '.jpg')),
                         (size, size))
        lab = cv2.resize(np.array(Image.open(
            osp.join(VOC, 'SegmentationClass', i + '.png'))), (size, size),
            interpolation=cv2.INTER_NEAREST)
        images.append(torch.from_numpy(img).permute(2, 0, 1).float())
        labels.append(torch.from_numpy(lab).long())
    return torch.stack(images).to(device), torch.stack(labels).to(device)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', default='benchmarks/results/mix_match.json')
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    loss_fn = TripletRankingLoss()
    result = {'device': args.device, 'threads': torch.get_num_threads(),
              'graph_and_loss': {}}
    for nodes in (160, 1600):
        labels = torch.randint(0, 21, (nodes, ), generator=g).to(
            args.device)
        features = torch.randn(nodes, 8192, generator=g).to(args.device)
        device_g = torch.Generator(args.device).manual_seed(0)

        def graph():
            return class_connected_triplets(labels, None, device_g)

        def graph_and_loss():
            x = features.clone().requires_grad_()
            triplets = graph()
            loss_fn(x, triplets.indices, triplets.valid).backward()

        result['graph_and_loss'][nodes] = {
            'graph_ms': 1000 * timed(graph, args.repeats, args.device),
            'graph_and_loss_ms': 1000 * timed(graph_and_loss, args.repeats,
                                              args.device),
        }
    # the backbone's cost for the same patches, for scale (16 patches, x10)
    from mmpretrain.models import VGG
    vgg = VGG(16, norm_cfg=dict(type='BN'), out_indices=(4, )).to(
        args.device).train()
    patches = torch.randn(16, 3, 128, 128, device=args.device)
    result['vgg16_bn_forward_backward_160_patches_ms'] = 10_000 * timed(
        lambda: vgg(patches)[-1].sum().backward(), 1, args.device)
    images, labels = voc_batch(16, 512, args.device)
    sampler = PatchSampler()
    count = []
    device_g = torch.Generator(args.device).manual_seed(0)

    def sample():
        count.append(float(sampler(images, labels, device_g).valid.sum()))

    seconds = timed(sample, args.repeats, args.device)
    result['sampler'] = {
        'images': 16, 'patches_per_call': float(np.mean(count)),
        'seconds_per_call': seconds,
        'patches_per_second': float(np.mean(count)) / seconds,
    }
    write_result(result, args.out)


if __name__ == '__main__':
    main()
