"""Where a MaskContrast training step spends its time.

    python benchmarks/mask_contrast_step.py [--scale mini|paper] [--repeats 5]
        [--device cpu|cuda] [--out benchmarks/results/mask_contrast_step.json]

One step = query backbone+decoder forward and backward, key encoder forward,
and the method's own work: prototypes, contrastive and saliency losses, the
queue. Batches are real voc12_mini images through the real pipeline (their
ground-truth foreground stands in for saliency masks). Target: the method's
own part is a small fraction of the step.
"""
import argparse
import os
import os.path as osp
import tempfile
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from common import DATA, REPO, write_result
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

from mmssl_seg.models.builder import build_model
from mmssl_seg.models.losses import pixel_prototypes, upsampled_pixels

VOC = osp.join(DATA, 'voc12_mini/VOCdevkit/VOC2012')
SCALES = {
    'mini': ('configs/mask_contrast/mask-contrast_r18-d8_1xb16-500_'
             'voc12mini-96x96.py', 16, 96),
    'paper': ('configs/mask_contrast/mask-contrast_r50-d8_4xb16-60e_'
              'voc12aug-224x224_unsup-sal.py', 16, 224),
}


def real_batch(config, batch, size, folder):
    ids = open(osp.join(VOC, 'ImageSets/Segmentation/train.txt')).read(
    ).split()[:batch * 2]
    os.makedirs(osp.join(folder, 'masks'), exist_ok=True)
    for i in ids:
        gt = np.array(Image.open(osp.join(VOC, 'SegmentationClass',
                                          i + '.png')))
        cv2.imwrite(osp.join(folder, 'masks', i + '.png'),
                    ((gt > 0) & (gt < 255)).astype(np.uint8) * 255)
    with open(osp.join(folder, 'kept_train.txt'), 'w') as f:
        f.write('\n'.join(ids))
    os.environ.update(SALIENCY_DIR=folder, VOC12_MINI_ROOT=VOC, VOC12_ROOT=VOC)
    cfg = Config.fromfile(osp.join(REPO, config))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.pipeline[2].size = size
    dataset = DATASETS.build(dataset_cfg)
    items = []
    i = 0
    while len(items) < batch:
        item = dataset[i]
        items.append(item)
        i += 1
    return cfg, default_collate(items)


def timed(fn, repeats, device):
    times = []
    for _ in range(repeats + 1):  # the first run warms up
        if device == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times[1:])), out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--scale', choices=SCALES, default='mini')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--out', default='benchmarks/results/mask_contrast_step.json')
    args = parser.parse_args()
    config, batch, size = SCALES[args.scale]
    init_default_scope('mmseg')
    with tempfile.TemporaryDirectory() as folder:
        cfg, data = real_batch(config, batch, size, folder)
    if args.device == 'cpu':
        cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
        cfg.model.decode_head.norm_cfg = dict(type='BN', requires_grad=True)
    model = build_model(cfg).to(args.device).train()
    model.init_weights()
    data = model.data_preprocessor(data, True)
    x_q, x_k = data['inputs']
    masks = torch.stack([s.gt_saliency.data for s in data['data_samples']
                         ]).to(args.device)
    up = x_q.shape[2:]

    def query_fb():
        model.zero_grad()
        out = model._head(model, x_q)
        out.sum().backward()
        return out

    def key_forward():
        with torch.no_grad():
            return model._head(model.momentum_encoder.module, x_k)

    t_query, _ = timed(query_fb, args.repeats, args.device)
    t_key, key_out = timed(key_forward, args.repeats, args.device)
    query_out = model._head(model, x_q).detach().requires_grad_()

    def method():  # what MaskContrast.loss does after the two networks
        d = model.embed_dim
        saliency = F.interpolate(query_out[:, d:], size=up, mode='bilinear',
                                 align_corners=False)
        query = upsampled_pixels(query_out[:, :d], masks[:, 0])
        with torch.no_grad():
            prototypes, valid = pixel_prototypes(
                *upsampled_pixels(key_out[:, :d], masks[:, 1]), len(key_out))
        losses = model.head.loss(query, saliency[:, 0], masks[:, 0],
                                 prototypes, valid,
                                 model.queue.get('prototypes'))
        loss = losses['loss_contrast'] + losses['loss_saliency']
        loss.backward()
        model.queue.push(prototypes=prototypes)
        return loss

    t_method, _ = timed(method, args.repeats, args.device)

    def full_step():
        model.zero_grad()
        losses = model.loss(data['inputs'], data['data_samples'])
        (losses['loss_contrast'] + losses['loss_saliency']).backward()

    t_step, _ = timed(full_step, args.repeats, args.device)
    result = {
        'scale': args.scale, 'config': config, 'batch': batch,
        'view_size': size, 'device': args.device,
        'threads': torch.get_num_threads(),
        'seconds': {'query forward+backward': t_query,
                    'key encoder forward': t_key,
                    'prototypes+losses+queue': t_method,
                    'full step': t_step},
        'method_fraction_of_step': t_method / t_step,
    }
    write_result(result, args.out)


if __name__ == '__main__':
    main()
