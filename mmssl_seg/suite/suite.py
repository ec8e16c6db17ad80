"""The ``voc12_mini`` suite: every method's prior, pretraining and the
shared evaluations, as stages of this project's own command-line tools.

Rows share an evaluation architecture so that their numbers compare:
ResNet rows hand their backbone to stock DeepLabV3 R18-D8, VGG rows to the
M&M hypercolumn VGG16; random init of the same architecture is a row of its
own. Every pretraining gets the same wall-clock budget on the reference
machine (2 CPU cores): iterations = budget / measured seconds per
iteration (``SECONDS_PER_ITER``), schedules scaled to match
(``rescale_schedule``).
"""
from __future__ import annotations

import dataclasses

from mmssl_seg.suite.stages import Stage

VOC_ROOT = 'data/voc12_mini/VOCdevkit/VOC2012'
BSDS_ROOT = 'data/bsds500'
DAVIS_ROOT = 'data/davis2016'
DATA_CONFIG = 'configs/_base_/datasets/voc12_mini.py'

EVAL_CONFIGS = {
    'resnet18':
    'configs/finetune/deeplabv3_r18-d8_1xb8-400_voc12mini-128x128.py',
    'vgg16':
    'configs/mix_match/hypercolumn_vgg16-bn_1xb8-200_voc12mini-128x128.py',
}
PRETRAIN_CONFIGS = {
    'mask_contrast':
    'configs/mask_contrast/mask-contrast_r18-d8_1xb16-500_voc12mini-96x96.py',
    'aux_contrast': 'configs/aux_contrast/'
    'aux-contrast_deeplabv3_r18-d8_1xb8-300_voc12mini-128x128.py',
    'hier_grouping':
    'configs/hier_grouping/hier-grouping_r18_1xb16-400_voc12mini-112x112.py',
    'mix_match':
    'configs/mix_match/mix-match_vgg16-bn_1xb4-200_voc12mini-128x128.py',
}
CONTOUR_CONFIG = \
    'configs/hier_grouping/contour-net_r18_1xb4-2k_bsds500-256x256.py'
# Seconds per iteration of each pretraining config on 2 idle CPU cores
# (benchmarks/pretrain_speed.py; the numbers are in docs/benchmarks.md).
# On a GPU keep these and train longer with --scale.
SECONDS_PER_ITER = {
    'mask_contrast': 2.5,
    'aux_contrast': 2.4,
    'hier_grouping': 1.0,
    'mix_match': 1.7,
}


@dataclasses.dataclass(frozen=True)
class Row:
    """A line of the table: a method (or random init) and the architecture
    its backbone is evaluated in."""
    name: str
    title: str
    arch: str
    prior: str
    in_index: int = -1
    finetune: bool = True
    # keys of the evaluation model the pretraining does not produce: left at
    # random init by the hand-off and allowed by the frozen protocols, which
    # read an earlier stage (``in_index``); stated, never silent
    allow_missing: tuple[str, ...] = ()

    @property
    def pretrained(self) -> bool:
        return self.name in PRETRAIN_CONFIGS

    @property
    def features(self) -> str:
        """The backbone output the frozen protocols read."""
        if self.in_index == -1:
            return self.arch
        # ResNet stages in the papers' naming: layer{i+1} is Res{i+2}
        return f'{self.arch} (Res{self.in_index + 2})'


ROWS = (
    Row('random_resnet18', 'random init', 'resnet18', '-'),
    Row('mask_contrast', 'MaskContrast', 'resnet18',
        'saliency (RBD, unsupervised)'),
    Row('aux_contrast', 'Auxiliary-label contrast', 'resnet18',
        'aux labels (K-means of our MaskContrast decoder)'),
    # The hypercolumn never computes Res5 (sec. 4.2): its frozen features
    # are Res4's output, compared with random init's Res4; fine-tuning puts
    # a randomly initialised Res5 under the same DeepLabV3.
    Row('hier_grouping', 'Hierarchical grouping', 'resnet18',
        'region trees (our BSDS contour net + OWT-UCM)', in_index=2,
        allow_missing=(r'^backbone\.layer4\.', )),
    Row('random_resnet18_res4', 'random init', 'resnet18', '-', in_index=2,
        finetune=False),
    Row('random_vgg16', 'random init', 'vgg16', '-'),
    Row('mix_match', 'Mix-and-Match', 'vgg16',
        'patches from the train labels (supervised)'),
)


@dataclasses.dataclass
class SuiteOptions:
    """Sizes of the suite; ``scale`` multiplies every training length.

    Args:
        pretrain_minutes: Wall-clock budget of each pretraining on the
            reference machine.
        contour_iters: Iterations of the BSDS contour detector.
        finetune_iters: Iterations of each fine-tuning run.
        finetune_seeds: Splits of the 10 % fine-tuning (100 % runs once).
        kmeans_seeds: K-means restarts.
        bsds_images: BSDS test images in the boundary benchmark.
    """
    work_dir: str = 'work_dirs/benchmark/voc12_mini'
    scale: float = 1.0
    pretrain_minutes: float = 6.0
    contour_iters: int = 1000
    finetune_iters: int = 100
    finetune_seeds: tuple[int, ...] = (0, 1)
    kmeans_seeds: tuple[int, ...] = (0, 1, 2)
    probe_epochs: int = 5
    bsds_images: int = 30
    voc_root: str = VOC_ROOT
    bsds_root: str = BSDS_ROOT
    davis_root: str = DAVIS_ROOT

    def iters(self, base: int) -> int:
        return max(1, round(base * self.scale))

    def pretrain_iters(self, method: str) -> int:
        return self.iters(self.pretrain_minutes * 60 /
                          SECONDS_PER_ITER[method])


def _env(opts: SuiteOptions, **extra: str) -> dict[str, str]:
    env = dict(extra)
    if opts.voc_root != VOC_ROOT:
        env['VOC12_MINI_ROOT'] = opts.voc_root
    if opts.bsds_root != BSDS_ROOT:
        env['BSDS_ROOT'] = opts.bsds_root
    return env


def prior_stages(opts: SuiteOptions) -> list[Stage]:
    """Saliency masks, the contour detector and region trees (and their
    BSDS score); the auxiliary labels come after MaskContrast (their
    extractor)."""
    w = opts.work_dir
    gt = f'{opts.voc_root}/SegmentationClass'
    saliency = f'{w}/priors/saliency'
    contour = f'{w}/priors/contour_net'
    contour_ckpt = f'{contour}/iter_{opts.iters(opts.contour_iters)}.pth'
    edges = ('--edges', 'contour_net', '--edge-config', CONTOUR_CONFIG,
             '--edge-checkpoint', contour_ckpt)
    bsds_trees = f'{w}/priors/bsds_test'
    return [
        Stage('prior.saliency',
              ('tools/priors/make_saliency.py', saliency, '--data',
               DATA_CONFIG, '--splits', 'train', 'val', '--method', 'rbd',
               '--gt-dir', gt, '--gt-kind', 'classes'),
              (f'{saliency}/saliency_quality.json',
               f'{saliency}/kept_train.txt'),
              env=_env(opts), kind='prior'),
        Stage('prior.contour_net',
              ('tools/train.py', CONTOUR_CONFIG, '--work-dir', contour,
               '--max-iters', str(opts.iters(opts.contour_iters))),
              (contour_ckpt, ), env=_env(opts), kind='prior'),
        Stage('prior.hierarchies',
              ('tools/priors/make_hierarchies.py', f'{w}/priors/hierarchies',
               '--data', DATA_CONFIG, '--splits', 'train', *edges),
              (f'{w}/priors/hierarchies/ids.txt', ),
              deps=('prior.contour_net', ), env=_env(opts), kind='prior'),
        Stage('prior.bsds_trees',
              ('tools/priors/make_hierarchies.py', bsds_trees, '--images',
               f'{opts.bsds_root}/images/test', *edges),
              (f'{bsds_trees}/ids.txt', ),
              deps=('prior.contour_net', ), env=_env(opts), kind='prior'),
        Stage('prior.bsds_benchmark',
              ('tools/eval/bsds_benchmark.py', f'{bsds_trees}/ucm2',
               '--gt-dir', f'{opts.bsds_root}/groundTruth/test',
               '--reference', f'{opts.bsds_root}/ucm2_gpb/test_eval',
               '--thresholds', '25', '--limit', str(opts.bsds_images),
               '--name', 'contour net + OWT-UCM', '--out-dir', bsds_trees),
              (f'{bsds_trees}/bsds_benchmark.json', ),
              deps=('prior.bsds_trees', ), kind='prior'),
    ]


def pretrain_stages(opts: SuiteOptions) -> list[Stage]:
    w = opts.work_dir
    stages = []
    for method in ('mask_contrast', 'aux_contrast', 'hier_grouping',
                   'mix_match'):
        iters = opts.pretrain_iters(method)
        run = f'{w}/{method}/pretrain'
        env, deps = {}, ()
        if method == 'mask_contrast':
            env = {'SALIENCY_DIR': f'{w}/priors/saliency'}
            deps = ('prior.saliency', )
        elif method == 'aux_contrast':
            env = {'AUX_LABELS': f'{w}/priors/aux_labels'}
            deps = ('prior.aux_labels', )
            stages.append(aux_label_stage(opts))
        elif method == 'hier_grouping':
            env = {'HIERARCHY_DIR': f'{w}/priors/hierarchies'}
            deps = ('prior.hierarchies', )
        stages.append(
            Stage(f'{method}.pretrain',
                  ('tools/train.py', PRETRAIN_CONFIGS[method], '--work-dir',
                   run, '--max-iters', str(iters)),
                  (f'{run}/iter_{iters}.pth', ), deps=deps,
                  env=_env(opts, **env), kind='pretrain'))
    return stages


def aux_label_stage(opts: SuiteOptions) -> Stage:
    """Auxiliary labels from the suite's own MaskContrast checkpoint (the
    extractor this project can produce without outside weights)."""
    w = opts.work_dir
    out = f'{w}/priors/aux_labels'
    iters = opts.pretrain_iters('mask_contrast')
    return Stage(
        'prior.aux_labels',
        ('tools/priors/make_aux_labels.py', out,
         PRETRAIN_CONFIGS['mask_contrast'],
         f'{w}/mask_contrast/pretrain/iter_{iters}.pth', '--data',
         DATA_CONFIG, '--splits', 'train', '--feature', 'decoder',
         '--scales', '0.5', '--gt-dir', f'{opts.voc_root}/SegmentationClass'),
        (f'{out}/aux_label_quality.json', f'{out}/manifest.json'),
        deps=('mask_contrast.pretrain', ), env=_env(opts), kind='prior')


def eval_stages(opts: SuiteOptions, row: Row) -> list[Stage]:
    """Hand-off (pretrained rows) and the shared protocols."""
    w = opts.work_dir
    base = f'{w}/{row.name}'
    config = EVAL_CONFIGS[row.arch]
    out = f'{base}/eval'
    allow = (('--allow-missing', *row.allow_missing)
             if row.allow_missing else ())
    stages, deps = [], ()
    checkpoint = 'random'
    if row.pretrained:
        iters = opts.pretrain_iters(row.name)
        checkpoint = f'{base}/backbone.pth'
        stages.append(
            Stage(f'{row.name}.extract',
                  ('tools/model_converters/extract_pretrained.py',
                   f'{base}/pretrain/iter_{iters}.pth', checkpoint,
                   '--target', config, '--parts', 'backbone',
                   *allow),
                  (checkpoint, ), deps=(f'{row.name}.pretrain', ),
                  env=_env(opts)))
        deps = (f'{row.name}.extract', )
    model = (config, checkpoint)
    frozen = (*model, '--feature', 'backbone')
    if row.in_index != -1:
        frozen += ('--in-index', str(row.in_index))
    frozen += allow
    stages += [
        Stage(f'{row.name}.linear_probe',
              ('tools/eval/linear_probe.py', *frozen, '--work-dir',
               f'{base}/probe', '--out-dir', out, '--cfg-options',
               f'train_cfg.max_epochs={opts.probe_epochs}',
               'param_scheduler.0.milestones='
               f'[{max(1, round(opts.probe_epochs * 0.7))}]'),
              (f'{out}/linear_probe.json', ), deps=deps, env=_env(opts)),
        Stage(f'{row.name}.kmeans',
              ('tools/eval/kmeans.py', *frozen, '--ks', '21', '100',
               '--seeds', *[str(s) for s in opts.kmeans_seeds], '--out-dir',
               out),
              (f'{out}/kmeans_pixel.json', ), deps=deps, env=_env(opts)),
        Stage(f'{row.name}.retrieval',
              ('tools/eval/retrieval.py', *frozen, '--segments', '15',
               '--out-dir', out),
              (f'{out}/retrieval.json', ), deps=deps, env=_env(opts)),
        Stage(f'{row.name}.davis',
              ('tools/eval/propagate_davis.py', *frozen, '--davis',
               opts.davis_root, '--out-dir', out),
              (f'{out}/davis_propagation.json', ), deps=deps),
    ]
    if not row.finetune:
        return stages
    seeds = [str(s) for s in opts.finetune_seeds]
    ft_iters = str(opts.iters(opts.finetune_iters))
    for fraction, split_seeds in (('10', seeds), ('100', ['0'])):
        ft = f'{base}/finetune_{fraction}'
        stages.append(
            Stage(f'{row.name}.finetune_{fraction}',
                  ('tools/eval/label_fraction.py', *model, '--parts',
                   'backbone', '--fractions', fraction, '--seeds',
                   *split_seeds, '--max-iters', ft_iters, '--work-dir', ft,
                   '--out-dir', f'{out}/finetune_{fraction}'),
                  (f'{out}/finetune_{fraction}/label_fraction.json', ),
                  deps=deps, env=_env(opts)))
    return stages


def voc12_mini_suite(opts: SuiteOptions) -> list[Stage]:
    """All stages in an order that respects their dependencies."""
    stages = prior_stages(opts) + pretrain_stages(opts)
    for row in ROWS:
        stages += eval_stages(opts, row)
    return stages


SUITES = {'voc12_mini': voc12_mini_suite}
