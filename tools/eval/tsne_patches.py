"""t-SNE of val patch features before and after Mix-and-Match tuning
(paper Fig. 4), one panel per checkpoint, with each panel's 5-NN patch
accuracy.

    python tools/eval/tsne_patches.py \
        configs/mix_match/mix-match_vgg16-bn_1xb4-200_voc12mini-128x128.py \
        --checkpoints random work_dirs/mix_match/voc12mini/tune/iter_200.pth \
        --names random "after M&M" [--images 100] [--out PNG]

Patches are drawn with the config's sampler (``model.sampler``).
"""
import argparse
import json
import os.path as osp

from _eval_args import DEFAULT_DATA


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='a MixMatch config')
    parser.add_argument('--checkpoints', nargs='+', required=True,
                        help="weights, or 'random'")
    parser.add_argument('--names', nargs='+', help='panel titles')
    parser.add_argument('--data', default=DEFAULT_DATA)
    parser.add_argument('--split', choices=['train', 'val'], default='val')
    parser.add_argument('--images', type=int, default=100)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='work_dirs/eval/patch_tsne.png')
    args = parser.parse_args(argv)
    args.names = args.names or [osp.basename(c) for c in args.checkpoints]
    if len(args.names) != len(args.checkpoints):
        parser.error('give one --names entry per checkpoint')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmengine.config import Config

    from mmssl_seg.checkpoint.loading import load_model
    from mmssl_seg.datasets.builder import build_eval_dataset
    from mmssl_seg.evaluation.cli import checkpoint_arg
    from mmssl_seg.models.utils.patch_sampler import PatchSampler
    from mmssl_seg.utils.errors import one_line_errors
    from mmssl_seg.utils.io import write_json
    from mmssl_seg.visualization.patch_tsne import draw_patch_tsne
    with one_line_errors():
        cfg = Config.fromfile(args.config)
        models = [load_model(cfg, checkpoint_arg(c))
                  for c in args.checkpoints]
        dataset = build_eval_dataset(args.data, args.split)
        result = draw_patch_tsne(models, args.names, dataset,
                                 PatchSampler(**cfg.model.get('sampler', {})),
                                 args.out, args.images, seed=args.seed)
    result.update(config=args.config, checkpoints=args.checkpoints)
    write_json(osp.splitext(args.out)[0] + '.json', result)
    print(json.dumps(result['models'], indent=1))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
