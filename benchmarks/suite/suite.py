"""The suites: every method's prior, pretraining and the shared evaluations,
as stages of this project's own command-line tools, in four regimes
(:class:`Regime`): ``voc12_mini`` (real photographs, the papers' protocols;
a GPU regime), ``mosaic`` (the quick-start's texture mosaics, where 2 CPU
cores can learn: supervised pretraining is 20 points above random init
there), ``camvid`` (street photographs at a third of their resolution,
where 2 CPU cores learn too) and ``horses`` (the Weizmann horses: one
salient object per photograph, MaskContrast's setting).

Rows share an evaluation architecture so that their numbers compare:
ResNet rows hand their backbone to stock DeepLabV3 R18-D8, VGG rows to the
M&M hypercolumn VGG16; random init of the same architecture is a row of its
own. Every pretraining gets the same wall-clock budget on the reference
machine (2 CPU cores): iterations = budget / measured seconds per
iteration (``SECONDS_PER_ITER``), schedules scaled to match
(``rescale_schedule``).

Controls make the table able to tell a working method from a broken one:
per architecture a **positive control** (the evaluation segmentor itself
trained on the voc12_mini train labels, same budget; its distance from
random init is each protocol's headroom) and per method a **negative
control** (the same pretraining on a prior folder in which every image
carries another image's prior: ``tools/priors/shuffle_priors.py``; for
Mix-and-Match another image's label map), and per architecture a
**data-statistics control** (random init with the train images' batch-norm
statistics, ``tools/eval/bn_statistics.py``: frozen protocols run the
backbone in eval mode, and any pretraining replaces random init's unit
statistics; in the mosaic regime that alone is worth 15 points of linear
probe, so a method must beat this row to show learned weights). Per
method with a prior, an **oracle control** asks the regime rather than the
method: the same pretraining on the prior rebuilt from the train labels
(``tools/priors/oracle_priors.py``); where it does not beat the negative
control, no prior could show its worth in the regime. The linear probe, the
primary protocol, runs on every pretraining seed (``pretrain_seeds``); the
other protocols read the first seed's checkpoint.
"""
from __future__ import annotations

import dataclasses
import os.path as osp

from mmssl_seg.priors.hierarchy.edges import (
    DEFAULT_SHARPEN,
    DEFAULT_SPECTRAL,
    DEFAULT_SPECTRAL_SIZE,
)
from mmssl_seg.priors.hierarchy.generate import DEFAULT_ARCS
from mmssl_seg.priors.hierarchy.packaged import PACKAGED

from .stages import Stage

VOC_ROOT = 'data/voc12_mini/VOCdevkit/VOC2012'
BSDS_ROOT = 'data/bsds500'
DAVIS_ROOT = 'data/davis2016'
DATA_CONFIG = 'configs/_base_/datasets/voc12_mini.py'

EVAL_CONFIGS = {
    'resnet18':
    'configs/finetune/deeplabv3_r18-d8_1xb8-400_voc12mini-128x128.py',
    # the 7x7 stem of MMPretrain's ResNet: the peers' evaluation segmentor
    'resnet18_v1b':
    'configs/finetune/deeplabv3_r18-v1b-d8_1xb8-400_voc12mini-128x128.py',
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
    # the alternatives a user of OpenMMLab would pick: MMPretrain's
    # registered algorithms, inherited from MMPretrain's own configs
    'mmpretrain_densecl':
    'configs/mmpretrain/densecl_r18_1xb16-400_voc12mini-128x128.py',
    'mmpretrain_mocov2':
    'configs/mmpretrain/mocov2_r18_1xb16-400_voc12mini-128x128.py',
}
# Seconds per iteration of each pretraining config on 2 idle CPU cores
# (benchmarks/pretrain_speed.py; the numbers are in benchmarks/README.md).
# On a GPU keep these and train longer with --scale.
SECONDS_PER_ITER = {
    'mask_contrast': 2.5,
    'aux_contrast': 2.4,
    'hier_grouping': 1.0,
    'mix_match': 1.7,
    'mmpretrain_densecl': 0.6,
    'mmpretrain_mocov2': 0.59,
    'supervised_resnet18': 1.0,
    'supervised_resnet18_v1b': 1.04,
    'supervised_vgg16': 1.6,
}
#: The prior folder (under ``priors/``) each method's config reads, and
#: the environment variable that points it there.
PRIOR_FOLDERS = {
    'mask_contrast': ('saliency', 'SALIENCY_DIR'),
    'aux_contrast': ('aux_labels', 'AUX_LABELS'),
    'hier_grouping': ('hierarchies', 'HIERARCHY_DIR'),
}


@dataclasses.dataclass(frozen=True)
class Row:
    """A line of the table: a method (or random init, or a control) and the
    architecture its backbone is evaluated in.

    Args:
        method: The pretraining config (a key of ``PRETRAIN_CONFIGS``);
            default: the row's name when it is one.
        control: ``supervised`` (positive control: the evaluation
            segmentor trained on the labels), ``shuffled_prior``
            (negative control: ``method`` on another image's priors),
            ``oracle_prior`` (``method`` on priors rebuilt from the ground
            truth: can the regime tell a right prior from a wrong one?) or
            ``bn_stats`` (random weights with the train images' batch-norm
            statistics: what a pretraining gives the frozen protocols
            without learning any weight).
        source: The row whose pretraining this row evaluates (another
            stage of the same checkpoints, e.g. Res4); default: itself.
        prior_is_labels: The method's prior is the train labels
            (Mix-and-Match): the row is its own oracle control.
        init_from: What the pretraining starts from where its config
            declares a pretrained backbone: the backbone of another row's
            pretraining of the same seed (MaskContrast from MoCo v2, as its
            paper), or ``random`` (random init on purpose); empty: the
            config's own start.
    """
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
    method: str = ''
    control: str = ''
    source: str = ''
    prior_is_labels: bool = False
    init_from: str = ''

    @property
    def budget_key(self) -> str | None:
        """The key of ``SECONDS_PER_ITER`` of this row's pretraining, or
        None for random init."""
        if self.control == 'supervised':
            return f'supervised_{self.arch}'
        method = self.method or self.name
        return (method if method in PRETRAIN_CONFIGS
                or method in MOSAIC_PRETRAIN_CONFIGS else None)

    @property
    def pretrained(self) -> bool:
        return self.budget_key is not None

    @property
    def checkpoints_of(self) -> str:
        """The row whose pretraining stages and folders this row reads."""
        return self.source or self.name

    @property
    def features(self) -> str:
        """The backbone output the frozen protocols read."""
        if self.in_index == -1:
            return self.arch
        # ResNet stages in the papers' naming: layer{i+1} is Res{i+2}
        return f'{self.arch} (Res{self.in_index + 2})'


NO_RES5 = (r'^backbone\.layer4\.', )
BN_STATS_TITLE = 'random init + data BN statistics (control)'
BN_STATS_PRIOR = 'none (the train images, no gradient)'
ROWS = (
    Row('random_resnet18', 'random init', 'resnet18', '-'),
    Row('random_bn_stats_resnet18', BN_STATS_TITLE, 'resnet18',
        BN_STATS_PRIOR, finetune=False, control='bn_stats'),
    Row('supervised_resnet18', 'supervised (positive control)', 'resnet18',
        'voc12_mini train labels', control='supervised'),
    Row('aux_contrast', 'Auxiliary-label contrast', 'resnet18',
        'aux labels (K-means of our hierarchical-grouping features)'),
    Row('shuffled_prior_aux_contrast',
        'Auxiliary-label contrast, shuffled prior (negative control)',
        'resnet18', "another image's aux labels", method='aux_contrast',
        control='shuffled_prior'),
    Row('oracle_prior_aux_contrast',
        'Auxiliary-label contrast, oracle prior (control)', 'resnet18',
        'ground-truth class maps', method='aux_contrast',
        control='oracle_prior'),
    # The hypercolumn never computes Res5 (sec. 4.2): its frozen features
    # are Res4's output, compared with random init's Res4; fine-tuning puts
    # a randomly initialised Res5 under the same DeepLabV3.
    Row('hier_grouping', 'Hierarchical grouping', 'resnet18',
        'region trees (our BSDS structured edges + sPb -> UCM)',
        in_index=2,
        allow_missing=NO_RES5),
    Row('shuffled_prior_hier_grouping',
        'Hierarchical grouping, shuffled prior (negative control)',
        'resnet18', "another image's region tree", in_index=2,
        allow_missing=NO_RES5, method='hier_grouping',
        control='shuffled_prior'),
    Row('oracle_prior_hier_grouping',
        'Hierarchical grouping, oracle prior (control)', 'resnet18',
        'region trees split and ordered by the ground-truth regions',
        in_index=2, allow_missing=NO_RES5, method='hier_grouping',
        control='oracle_prior'),
    Row('random_resnet18_res4', 'random init', 'resnet18', '-', in_index=2,
        finetune=False),
    Row('random_bn_stats_resnet18_res4', BN_STATS_TITLE, 'resnet18',
        BN_STATS_PRIOR, in_index=2, finetune=False, control='bn_stats',
        source='random_bn_stats_resnet18'),
    Row('supervised_resnet18_res4', 'supervised (positive control)',
        'resnet18', 'voc12_mini train labels', in_index=2, finetune=False,
        control='supervised', source='supervised_resnet18'),
    # The 7x7-stem ResNet rows against random init and the positive control
    # of that variant: MaskContrast (its paper's network is MoCo v2's
    # torchvision ResNet) and MMPretrain's peers (no prior: two augmented
    # views of each image; no negative control)
    Row('random_resnet18_v1b', 'random init', 'resnet18_v1b', '-'),
    Row('random_bn_stats_resnet18_v1b', BN_STATS_TITLE, 'resnet18_v1b',
        BN_STATS_PRIOR, finetune=False, control='bn_stats'),
    Row('supervised_resnet18_v1b', 'supervised (positive control)',
        'resnet18_v1b', 'voc12_mini train labels', control='supervised'),
    Row('mask_contrast', 'MaskContrast', 'resnet18_v1b',
        'saliency (RBD, unsupervised)'),
    Row('shuffled_prior_mask_contrast',
        'MaskContrast, shuffled prior (negative control)', 'resnet18_v1b',
        "another image's saliency", method='mask_contrast',
        control='shuffled_prior'),
    Row('oracle_prior_mask_contrast',
        'MaskContrast, oracle prior (control)', 'resnet18_v1b',
        'ground-truth foreground', method='mask_contrast',
        control='oracle_prior'),
    Row('mmpretrain_densecl', 'MMPretrain DenseCL (stock)', 'resnet18_v1b',
        'none (two views of each image)'),
    Row('mmpretrain_mocov2', 'MMPretrain MoCo v2 (stock)', 'resnet18_v1b',
        'none (two views of each image)'),
    Row('random_vgg16', 'random init', 'vgg16', '-'),
    Row('random_bn_stats_vgg16', BN_STATS_TITLE, 'vgg16', BN_STATS_PRIOR,
        finetune=False, control='bn_stats'),
    Row('supervised_vgg16', 'supervised (positive control)', 'vgg16',
        'voc12_mini train labels', control='supervised'),
    Row('mix_match', 'Mix-and-Match', 'vgg16',
        'patches from the train labels (supervised)', prior_is_labels=True),
    Row('shuffled_prior_mix_match',
        'Mix-and-Match, shuffled labels (negative control)', 'vgg16',
        "another image's label map", method='mix_match',
        control='shuffled_prior'),
)


# The second regime: the quick-start's texture mosaics (6 classes, 240 train
# / 60 val, 128x128), where 2 CPU cores learn in minutes. ResNet rows only:
# MaskContrast's prior (a salient object) does not exist in a mosaic, and
# Mix-and-Match tunes the regime's ResNet-18 (its paper's VGG16 would need
# VGG rows of random init and positive control, and its pool5 is 4x4 on a
# mosaic).
MOSAIC_EVAL_CONFIGS = {
    'resnet18': 'configs/demo/deeplabv3_r18-d8_1xb8-240_mosaic-64x64.py',
    # the 7x7 stem of MMPretrain's ResNet: the peers' evaluation segmentor
    'resnet18_v1b':
    'configs/demo/deeplabv3_r18-v1b-d8_1xb8-240_mosaic-64x64.py',
}
#: MMPretrain's peers in the mosaic regime (the voc12_mini ones are in
#: ``PRETRAIN_CONFIGS``).
MOSAIC_PEER_CONFIGS = {
    'mmpretrain_densecl':
    'configs/mmpretrain/densecl_r18_1xb16-300_mosaic-64x64.py',
    'mmpretrain_mocov2':
    'configs/mmpretrain/mocov2_r18_1xb16-300_mosaic-64x64.py',
}
MOSAIC_PRETRAIN_CONFIGS = {
    'aux_contrast':
    'configs/demo/aux-contrast_deeplabv3_r18-d8_1xb8-300_mosaic-64x64.py',
    'hier_grouping':
    'configs/demo/hier-grouping_r18_1xb16-300_mosaic-64x64.py',
    'mix_match': 'configs/demo/mix-match_r18-d8_1xb8-300_mosaic-128x128.py',
    **MOSAIC_PEER_CONFIGS,
}
# measured like SECONDS_PER_ITER (2 idle CPU cores, 64x64 crops;
# benchmarks/pretrain_speed.py --suite mosaic)
MOSAIC_SECONDS_PER_ITER = {
    'aux_contrast': 0.62,
    'hier_grouping': 0.34,
    'mix_match': 0.29,
    'supervised_resnet18': 0.28,
    'mmpretrain_densecl': 0.21,
    'mmpretrain_mocov2': 0.19,
    'supervised_resnet18_v1b': 0.28,
}
#: The mosaic regime's priors, where they differ from voc12_mini's.
MOSAIC_PRIORS = {
    'supervised_resnet18': 'mosaic train labels',
    'hier_grouping': "region trees (our small BSDS forest's structured "
                     'edges + sPb -> UCM)',
    'supervised_resnet18_res4': 'mosaic train labels',
    'supervised_resnet18_v1b': 'mosaic train labels',
    'mix_match': 'patches from the mosaic train labels (supervised)',
}


def resnet_rows(priors: dict[str, str]) -> tuple[Row, ...]:
    """The rows of a CPU regime: ResNet rows only, Mix-and-Match tuning
    the regime's ResNet-18, no MaskContrast (whose prior, a salient object,
    the regime lacks); ``priors`` names the rows' priors where they differ
    from voc12_mini's."""
    return tuple(
        dataclasses.replace(row, prior=priors.get(row.name, row.prior),
                            arch='resnet18' if row.arch == 'vgg16'
                            else row.arch)
        for row in ROWS if 'mask_contrast' not in row.name and (
            row.arch != 'vgg16' or 'mix_match' in row.name))


MOSAIC_ROWS = resnet_rows(MOSAIC_PRIORS)

# The third regime: CamVid street scenes (11 classes, 367 train / 101 val),
# the small sibling of the Cityscapes evaluations of the auxiliary-label and
# Mix-and-Match papers, at a third of the resolution (160x120 frames, 112x112
# crops), where a supervised DeepLabV3-R18 gains 10 points of linear probe
# over random init in minutes of 2 CPU cores (issue 56). The mosaic regime's
# rows; hierarchical grouping groups on the packaged structured edge forest
# (the SE paper's forest trained here, make_hierarchies.py's default).
CAMVID_ROOT = 'data/camvid'
CAMVID_EVAL_CONFIGS = {
    'resnet18':
    'configs/finetune/deeplabv3_r18-d8_1xb8-250_camvid-112x112.py',
    'resnet18_v1b':
    'configs/finetune/deeplabv3_r18-v1b-d8_1xb8-250_camvid-112x112.py',
}
CAMVID_PRETRAIN_CONFIGS = {
    'aux_contrast': 'configs/aux_contrast/'
    'aux-contrast_deeplabv3_r18-d8_1xb8-300_camvid-112x112.py',
    'hier_grouping':
    'configs/hier_grouping/hier-grouping_r18_1xb16-400_camvid-112x112.py',
    'mix_match':
    'configs/mix_match/mix-match_r18-d8_1xb8-300_camvid-112x112.py',
    'mmpretrain_densecl':
    'configs/mmpretrain/densecl_r18_1xb16-400_camvid-112x112.py',
    'mmpretrain_mocov2':
    'configs/mmpretrain/mocov2_r18_1xb16-400_camvid-112x112.py',
}
# measured like SECONDS_PER_ITER (2 idle CPU cores, 112x112 crops;
# benchmarks/pretrain_speed.py --suite camvid)
CAMVID_SECONDS_PER_ITER = {
    'aux_contrast': 1.67,
    'hier_grouping': 0.9,
    'mix_match': 0.53,
    'supervised_resnet18': 0.86,
    'mmpretrain_densecl': 0.58,
    'mmpretrain_mocov2': 0.6,
    'supervised_resnet18_v1b': 0.86,
}
CAMVID_PRIORS = {
    'supervised_resnet18': 'CamVid train labels',
    'hier_grouping': 'region trees (the packaged BSDS forest\'s structured '
                     'edges + sPb -> UCM)',
    'supervised_resnet18_res4': 'CamVid train labels',
    'supervised_resnet18_v1b': 'CamVid train labels',
    'mix_match': 'patches from the CamVid train labels (supervised; road '
                 'as background)',
}
CAMVID_ROWS = resnet_rows(CAMVID_PRIORS)

# The fourth regime: the Weizmann horses (background / horse; the fixed 180
# train / 48 val split of mmssl_seg/datasets/splits, converted by the suite
# at a long side of 160 px), one salient object per photograph: MaskContrast's
# setting. MaskContrast starts from MMPretrain's MoCo v2 trained in the same
# regime, as its paper starts from MoCo v2 (the pipeline end to end: the
# MMPretrain checkpoint -> our converter -> MaskContrast -> our converter ->
# stock fine-tuning), beside MaskContrast from random init; hierarchical
# grouping and auxiliary-label contrast as in the CamVid regime; no
# Mix-and-Match (its graph needs several classes). The budget is 6 minutes:
# at 4 the positive control probed 63.3 +- 0.6 against random init's
# 53.8 +- 2.1 (+9.4, under the 10 points of headroom a regime needs); at 6
# (424 iterations) 67.2 +- 0.4 (+13.4). 10 % fine-tuning starts random init
# at 68.5 on 2 classes and the control on all labels reaches 74.9, so its
# headroom stays small (+2.1 at 4 minutes, +3.9 at 6).
HORSE_SOURCE = 'data/weizmann_horse'
HORSE_LONG_SIDE = 160
HORSES_EVAL_CONFIGS = {
    'resnet18':
    'configs/finetune/deeplabv3_r18-d8_1xb8-250_horses-112x112.py',
    'resnet18_v1b':
    'configs/finetune/deeplabv3_r18-v1b-d8_1xb8-250_horses-112x112.py',
}
HORSES_PRETRAIN_CONFIGS = {
    'aux_contrast': 'configs/aux_contrast/'
    'aux-contrast_deeplabv3_r18-d8_1xb8-300_horses-112x112.py',
    'hier_grouping':
    'configs/hier_grouping/hier-grouping_r18_1xb16-400_horses-112x112.py',
    'mask_contrast':
    'configs/mask_contrast/mask-contrast_r18-d8_1xb16-300_horses-112x112.py',
    'mmpretrain_densecl':
    'configs/mmpretrain/densecl_r18_1xb16-400_horses-112x112.py',
    'mmpretrain_mocov2':
    'configs/mmpretrain/mocov2_r18_1xb16-400_horses-112x112.py',
}
# measured like SECONDS_PER_ITER (2 idle CPU cores, 112x112 crops;
# benchmarks/pretrain_speed.py --suite horses)
HORSES_SECONDS_PER_ITER = {
    'aux_contrast': 1.77,
    'hier_grouping': 0.87,
    'mask_contrast': 2.73,
    'supervised_resnet18': 0.85,
    'mmpretrain_densecl': 0.49,
    'mmpretrain_mocov2': 0.5,
    'supervised_resnet18_v1b': 0.77,
}
HORSES_PRIORS = {
    'supervised_resnet18': 'horse train labels',
    'hier_grouping': 'region trees (the packaged BSDS forest\'s structured '
                     'edges + sPb -> UCM)',
    'supervised_resnet18_res4': 'horse train labels',
    'supervised_resnet18_v1b': 'horse train labels',
    'oracle_prior_mask_contrast': 'ground-truth horse masks',
}
MOCOV2_START = 'mmpretrain_mocov2'


def horse_rows() -> tuple[Row, ...]:
    """The CamVid regime's rows without Mix-and-Match, and MaskContrast's
    three rows started from MoCo v2 (the paper's pipeline) with a fourth
    from random init."""
    rows = []
    for row in ROWS:
        if row.arch == 'vgg16':
            continue
        row = dataclasses.replace(
            row, prior=HORSES_PRIORS.get(row.name, row.prior))
        if 'mask_contrast' in row.name:
            row = dataclasses.replace(
                row, title=row.title.replace(
                    'MaskContrast', 'MaskContrast from MoCo v2'),
                init_from=MOCOV2_START)
        rows.append(row)
        if row.name == 'mask_contrast':
            rows.append(dataclasses.replace(
                row, name='random_init_mask_contrast',
                title='MaskContrast from random init',
                method='mask_contrast', init_from='random'))
    return tuple(rows)


HORSES_ROWS = horse_rows()


@dataclasses.dataclass(frozen=True)
class Regime:
    """A data set, its configs and its budget; the stages and the table are
    the same for every regime.

    Args:
        eval_configs: The evaluation segmentor per architecture (also the
            positive control's training config).
        pretrain_configs: Each method's pretraining config.
        seconds_per_iter: Measured seconds per iteration of each pretraining
            (and ``supervised_<arch>``) on the reference machine.
        probe_config: The linear probe's config.
        data_config: The data set config of the frozen protocols' val
            images (``--data``; None: the tools' default, voc12_mini).
        kmeans_over: The overclustering K of K-means (majority vote),
            beside K = ``num_classes`` (Hungarian).
        fractions: Label fractions (%) of the fine-tuning protocol.
        protocols: Which of ``retrieval`` and ``davis`` the regime runs.
        pretrain_minutes / finetune_iters / probe_epochs: Default budget.
        aux_scales: Scales of the images the auxiliary labels' extractor
            reads (``make_aux_labels.py --scales``): those its pretraining
            saw the contents at.
    """
    name: str
    rows: tuple[Row, ...]
    eval_configs: dict[str, str]
    pretrain_configs: dict[str, str]
    seconds_per_iter: dict[str, float]
    probe_config: str
    data_config: str | None
    num_classes: int
    kmeans_over: int
    fractions: tuple[str, ...]
    protocols: tuple[str, ...]
    pretrain_minutes: float
    finetune_iters: int
    probe_epochs: int
    description: str
    aux_scales: tuple[str, ...] = ('0.5', '1')

    @property
    def kmeans_ks(self) -> tuple[int, int]:
        """K-means Ks: the class count (Hungarian), the overclustering."""
        return self.num_classes, self.kmeans_over


REGIMES = {
    'voc12_mini': Regime(
        'voc12_mini', ROWS, EVAL_CONFIGS, PRETRAIN_CONFIGS, SECONDS_PER_ITER,
        'configs/eval/linear_probe/linear-probe_1xb16-10e_voc12mini-128x128.py',
        None, 21, 100, ('10', '100'), ('retrieval', 'davis'), 6.0,
        100, 5,
        'voc12_mini (330 train / 200 val), BSDS500, DAVIS 2016'),
    'mosaic': Regime(
        'mosaic', MOSAIC_ROWS, MOSAIC_EVAL_CONFIGS, MOSAIC_PRETRAIN_CONFIGS,
        MOSAIC_SECONDS_PER_ITER,
        'configs/eval/linear_probe/linear-probe_1xb16-10e_mosaic-64x64.py',
        'configs/_base_/datasets/texture_mosaic.py',
        # 10 probe epochs (the config's): with 5, random init's probe
        # scattered over 34-48 across seeds (undertrained, 14 iters/epoch);
        # 8 min of pretraining: at 2 a perfect (oracle) prior probed level
        # with another image's, so no prior could show its worth
        6, 24, ('10', ), (), 8.0, 120, 10,
        'texture mosaics of the quick-start (6 textures, 240 train / 60 val '
        'images of 128x128, tools/make_texture_mosaics.py)'),
    'camvid': Regime(
        'camvid', CAMVID_ROWS, CAMVID_EVAL_CONFIGS, CAMVID_PRETRAIN_CONFIGS,
        CAMVID_SECONDS_PER_ITER,
        'configs/eval/linear_probe/linear-probe_1xb16-10e_camvid-112x112.py',
        'configs/_base_/datasets/camvid.py',
        # 250 fine-tuning iterations (the fine-tuning config's) on the 10 %
        # split's 37 frames
        11, 44, ('10', ), (), 4.0, 250, 10,
        'CamVid street scenes (11 classes, 367 train / 101 val frames of '
        '480x360) at a third of the resolution (160x120, 112x112 crops)',
        # the methods see 112x112 views of 480x360 frames, contents at
        # about 0.25-0.6 of their size
        aux_scales=('0.25', '0.5')),
    'horses': Regime(
        'horses', HORSES_ROWS, HORSES_EVAL_CONFIGS, HORSES_PRETRAIN_CONFIGS,
        HORSES_SECONDS_PER_ITER,
        'configs/eval/linear_probe/linear-probe_1xb16-10e_horses-112x112.py',
        'configs/_base_/datasets/weizmann_horse.py',
        # K-means: K = 2 (Hungarian) and an overclustering of 8
        2, 8, ('10', ), (), 6.0, 250, 10,
        'Weizmann horses (background / horse, 180 train / 48 val '
        'photographs, the fixed split) fit to 160x120, 112x112 crops',
        # the methods see the 160x120 photographs at x0.75-1.5
        aux_scales=('0.75', '1.5')),
}


@dataclasses.dataclass
class SuiteOptions:
    """Sizes of the suite; ``scale`` multiplies every training length.

    Args:
        suite: The regime (a key of ``REGIMES``).
        work_dir: Default: ``work_dirs/benchmark/<suite>``.
        pretrain_minutes: Wall-clock budget of each pretraining on the
            reference machine (default: the regime's).
        finetune_iters: Iterations of each fine-tuning run (default: the
            regime's).
        probe_epochs: Epochs of the linear probe (default: the regime's).
        finetune_seeds: Splits of the 10 % fine-tuning (100 % runs once).
        pretrain_seeds: Seeds of every pretraining (and of random init),
            each evaluated by the linear probe.
        kmeans_seeds: K-means restarts.
        bsds_images: BSDS test images in the boundary benchmark.
    """
    suite: str = 'voc12_mini'
    work_dir: str | None = None
    scale: float = 1.0
    pretrain_minutes: float | None = None
    finetune_iters: int | None = None
    finetune_seeds: tuple[int, ...] = (0, 1)
    pretrain_seeds: tuple[int, ...] = (0, 1, 2)
    kmeans_seeds: tuple[int, ...] = (0, 1, 2)
    probe_epochs: int | None = None
    bsds_images: int = 30
    voc_root: str = VOC_ROOT
    bsds_root: str = BSDS_ROOT
    davis_root: str = DAVIS_ROOT
    camvid_root: str = CAMVID_ROOT
    horse_source: str = HORSE_SOURCE

    def __post_init__(self) -> None:
        if self.suite not in REGIMES:
            raise ValueError(f'unknown suite {self.suite!r}; choose from '
                             f'{sorted(REGIMES)}')
        if self.work_dir is None:
            self.work_dir = f'work_dirs/benchmark/{self.suite}'
        if self.pretrain_minutes is None:
            self.pretrain_minutes = self.regime.pretrain_minutes
        if self.finetune_iters is None:
            self.finetune_iters = self.regime.finetune_iters
        if self.probe_epochs is None:
            self.probe_epochs = self.regime.probe_epochs

    @property
    def regime(self) -> Regime:
        return REGIMES[self.suite]

    @property
    def mosaic_root(self) -> str:
        """Where the mosaic regime builds its data."""
        return f'{self.work_dir}/data/texture_mosaics'

    @property
    def horse_root(self) -> str:
        """Where the horses regime converts its data."""
        return f'{self.work_dir}/data/weizmann_horse'

    @property
    def image_root(self) -> str | None:
        """The folder of a CPU regime's ``images/train`` and ``train.txt``
        (None: voc12_mini, read through its data config)."""
        return {'mosaic': self.mosaic_root, 'camvid': self.camvid_root,
                'horses': self.horse_root}.get(self.suite)

    @property
    def data_stage(self) -> tuple[str, ...]:
        """The stage that writes the regime's images, where the suite
        builds them (random init and the positive control read them)."""
        return {'mosaic': ('data.mosaics', ),
                'horses': ('data.horses', )}.get(self.suite, ())

    def iters(self, base: int) -> int:
        return max(1, round(base * self.scale))

    def pretrain_iters(self, key: str) -> int:
        """Iterations of a pretraining (a key of the regime's
        ``seconds_per_iter``)."""
        return self.iters(self.pretrain_minutes * 60 /
                          self.regime.seconds_per_iter[key])

    def seed_dir(self, seed: int) -> str:
        """Suffix of a pretraining seed's folders and stage names: none for
        the first seed (the checkpoint every protocol reads)."""
        return '' if seed == self.pretrain_seeds[0] else f'_seed{seed}'

    def probe_dir(self, out: str, seed: int) -> str:
        """Where a row's linear probe on a pretraining seed writes, under
        the row's ``eval`` folder ``out``."""
        return out + (f'/seed{seed}' if self.seed_dir(seed) else '')


def _env(opts: SuiteOptions, **extra: str) -> dict[str, str]:
    env = dict(extra)
    if opts.suite == 'mosaic':  # every mosaic config reads MOSAIC_ROOT
        env['MOSAIC_ROOT'] = opts.mosaic_root
    if opts.voc_root != VOC_ROOT:
        env['VOC12_MINI_ROOT'] = opts.voc_root
    if opts.bsds_root != BSDS_ROOT:
        env['BSDS_ROOT'] = opts.bsds_root
    if opts.suite == 'camvid' and opts.camvid_root != CAMVID_ROOT:
        env['CAMVID_ROOT'] = opts.camvid_root
    if opts.suite == 'horses':  # every horses config reads HORSE_ROOT
        env['HORSE_ROOT'] = opts.horse_root
    return env


def _forest_model(opts: SuiteOptions) -> str:
    """The suite's structured edge forest in OpenCV's format."""
    return f'{opts.work_dir}/priors/structured_edges/model.yml.gz'


def forest_stage(opts: SuiteOptions, *budget: str) -> Stage:
    """The structured edge forest, trained on BSDS500 train + val (never on
    the suite's images) with ``train_structured_edges.py``'s ``budget``
    options (none: the SE paper's)."""
    model = _forest_model(opts)
    forest = osp.dirname(model)
    return Stage('prior.structured_edges',
                 ('tools/priors/train_structured_edges.py', forest, '--bsds',
                  opts.bsds_root, *budget), (model, ), kind='prior',
                 scratch=(forest, ))


def structured_edge_args(opts: SuiteOptions,
                         model: str | None = None) -> tuple[str, ...]:
    """``make_hierarchies.py``'s options for the paper's grouping primitive
    (its default, spelt out), on ``model`` (default: the suite's forest)."""
    return ('--edges', 'structured_forest', '--edge-model',
            model or _forest_model(opts), '--edge-multiscale',
            '--edge-sharpen', str(DEFAULT_SHARPEN), '--spectral',
            str(DEFAULT_SPECTRAL), '--spectral-size',
            str(DEFAULT_SPECTRAL_SIZE), '--arcs', DEFAULT_ARCS)


def prior_stages(opts: SuiteOptions) -> list[Stage]:
    """Saliency masks, the structured edge forest and region trees (and
    their BSDS score); the auxiliary labels come after MaskContrast (their
    extractor)."""
    w = opts.work_dir
    gt = f'{opts.voc_root}/SegmentationClass'
    saliency = f'{w}/priors/saliency'
    edges = structured_edge_args(opts)
    bsds_trees = f'{w}/priors/bsds_test'
    return [
        Stage('prior.saliency',
              ('tools/priors/make_saliency.py', saliency, '--data',
               DATA_CONFIG, '--splits', 'train', 'val', '--method', 'rbd',
               '--gt-dir', gt, '--gt-kind', 'classes'),
              (f'{saliency}/saliency_quality.json',
               f'{saliency}/kept_train.txt'),
              env=_env(opts), kind='prior', scratch=(saliency, )),
        # not scaled with --scale (the SE paper's budget: 8 trees, 1M
        # patches)
        forest_stage(opts),
        Stage('prior.hierarchies',
              ('tools/priors/make_hierarchies.py', f'{w}/priors/hierarchies',
               '--data', DATA_CONFIG, '--splits', 'train', *edges),
              (f'{w}/priors/hierarchies/ids.txt', ),
              deps=('prior.structured_edges', ), env=_env(opts),
              kind='prior', scratch=(f'{w}/priors/hierarchies', )),
        Stage('prior.bsds_trees',
              ('tools/priors/make_hierarchies.py', bsds_trees, '--images',
               f'{opts.bsds_root}/images/test', *edges),
              (f'{bsds_trees}/ids.txt', ),
              deps=('prior.structured_edges', ), env=_env(opts),
              kind='prior', scratch=(bsds_trees, )),
        Stage('prior.bsds_benchmark',
              ('tools/eval/bsds_benchmark.py', f'{bsds_trees}/ucm2',
               '--gt-dir', f'{opts.bsds_root}/groundTruth/test',
               '--reference', f'{opts.bsds_root}/ucm2_gpb/test_eval',
               '--thresholds', '25', '--limit', str(opts.bsds_images),
               '--name', 'structured edges + sPb -> UCM', '--out-dir',
               bsds_trees),
              (f'{bsds_trees}/bsds_benchmark.json', ),
              deps=('prior.bsds_trees', ), kind='prior'),
        # donors among the kept train images only (the folder has val too)
        shuffle_stage(opts, 'saliency', 'prior.saliency',
                      ('--ids', f'{saliency}/kept_train.txt')),
        shuffle_stage(opts, 'hierarchies', 'prior.hierarchies'),
        oracle_stage(opts, 'saliency', 'prior.saliency', gt,
                     ('--ids', f'{saliency}/kept_train.txt')),
        oracle_stage(opts, 'hierarchies', 'prior.hierarchies', gt),
        shuffled_labels_stage(
            opts, f'{opts.voc_root}/SegmentationClass',
            f'{opts.voc_root}/ImageSets/Segmentation/train.txt'),
    ]


def shuffle_stage(opts: SuiteOptions, folder: str, dep: str,
                  extra: tuple[str, ...] = ()) -> Stage:
    """The negative control's priors: ``priors/<folder>`` with every image
    given another image's files."""
    w = opts.work_dir
    out = f'{w}/priors/shuffled_{folder}'
    return Stage(f'prior.shuffled_{folder}',
                 ('tools/priors/shuffle_priors.py', f'{w}/priors/{folder}',
                  out, *extra), (f'{out}/manifest.json', ), deps=(dep, ),
                 kind='prior', scratch=(out, ))


def train_labels(opts: SuiteOptions) -> str:
    """The regime's train class maps (the oracle priors' ground truth)."""
    if opts.suite == 'mosaic':
        return f'{opts.mosaic_root}/annotations/train'
    if opts.suite == 'camvid':
        return f'{opts.camvid_root}/labels/train'
    if opts.suite == 'horses':
        return f'{opts.horse_root}/annotations/train'
    return f'{opts.voc_root}/SegmentationClass'


def oracle_stage(opts: SuiteOptions, folder: str, dep: str, gt: str,
                 extra: tuple[str, ...] = ()) -> Stage:
    """The oracle control's priors: ``priors/<folder>`` rebuilt from the
    train labels ``gt``."""
    w = opts.work_dir
    out = f'{w}/priors/oracle_{folder}'
    return Stage(f'prior.oracle_{folder}',
                 ('tools/priors/oracle_priors.py', f'{w}/priors/{folder}', gt,
                  out, *extra), (f'{out}/manifest.json', ), deps=(dep, ),
                 kind='prior', scratch=(out, ))


def mosaic_prior_stages(opts: SuiteOptions) -> list[Stage]:
    """The mosaics themselves and their region trees from structured edges
    (the paper's primitive, as on voc12_mini) of a smaller forest: 4 trees x
    300 000 patches train in 2.5 min on 2 cores, where the SE paper's budget
    takes 15. The quick-start's colour-gradient trees separate two textures
    less (negative pairs across textures 0.674 vs 0.750) and hierarchical
    grouping on them did not beat its negative control
    (docs/benchmarks_mosaic.md)."""
    w, root = opts.work_dir, opts.mosaic_root
    trees = f'{w}/priors/hierarchies'
    return [
        Stage('data.mosaics', ('tools/make_texture_mosaics.py', root),
              tuple(f'{root}/{part}/{split}'
                    for part in ('images', 'annotations')
                    for split in ('train', 'val')) +
              (f'{root}/train.txt', f'{root}/val.txt'), kind='prior'),
        forest_stage(opts, '--trees', '4', '--positives', '150000',
                     '--negatives', '150000'),
        Stage('prior.hierarchies',
              ('tools/priors/make_hierarchies.py', trees, '--images',
               f'{root}/images/train', '--ids', f'{root}/train.txt',
               *structured_edge_args(opts)),
              (f'{trees}/ids.txt', ),
              deps=('data.mosaics', 'prior.structured_edges'),
              kind='prior', scratch=(trees, )),
        shuffle_stage(opts, 'hierarchies', 'prior.hierarchies'),
        oracle_stage(opts, 'hierarchies', 'prior.hierarchies',
                     train_labels(opts)),
        shuffled_labels_stage(opts, f'{root}/annotations/train',
                              f'{root}/train.txt', 'data.mosaics'),
    ]


def camvid_prior_stages(opts: SuiteOptions) -> list[Stage]:
    """Region trees of the CamVid train frames at their 480x360 from the
    packaged structured edge forest (the SE paper's budget, trained here:
    the forest stage of voc12_mini writes the same bytes), and the
    controls' priors."""
    w, root = opts.work_dir, opts.camvid_root
    trees = f'{w}/priors/hierarchies'
    return [
        Stage('prior.hierarchies',
              ('tools/priors/make_hierarchies.py', trees, '--images',
               f'{root}/images/train', '--ids', f'{root}/train.txt',
               *structured_edge_args(opts, PACKAGED)),
              (f'{trees}/ids.txt', ), kind='prior', scratch=(trees, )),
        shuffle_stage(opts, 'hierarchies', 'prior.hierarchies'),
        oracle_stage(opts, 'hierarchies', 'prior.hierarchies',
                     train_labels(opts)),
        shuffled_labels_stage(opts, train_labels(opts),
                              f'{root}/train.txt'),
    ]


def horses_prior_stages(opts: SuiteOptions) -> list[Stage]:
    """The horses converted from ``opts.horse_source`` (the fixed split,
    160 px long sides), their RBD saliency (MaskContrast's unsupervised
    prior), their region trees from the packaged structured edge forest, and
    the controls' priors."""
    w, root = opts.work_dir, opts.horse_root
    saliency, trees = f'{w}/priors/saliency', f'{w}/priors/hierarchies'
    images = ('--images', f'{root}/images/train', '--ids',
              f'{root}/train.txt')
    kept = ('--ids', f'{saliency}/kept.txt')
    return [
        Stage('data.horses',
              ('tools/dataset_converters/weizmann_horse.py',
               opts.horse_source, root, '--long-side', str(HORSE_LONG_SIDE)),
              tuple(f'{root}/{part}/{split}'
                    for part in ('images', 'annotations')
                    for split in ('train', 'val')) +
              (f'{root}/train.txt', f'{root}/val.txt'), kind='prior',
              scratch=(root, )),
        Stage('prior.saliency',
              ('tools/priors/make_saliency.py', saliency, *images,
               '--method', 'rbd', '--gt-dir', train_labels(opts),
               '--gt-kind', 'classes'),
              (f'{saliency}/saliency_quality.json', f'{saliency}/kept.txt'),
              deps=('data.horses', ), kind='prior', scratch=(saliency, )),
        Stage('prior.hierarchies',
              ('tools/priors/make_hierarchies.py', trees, *images,
               *structured_edge_args(opts, PACKAGED)),
              (f'{trees}/ids.txt', ), deps=('data.horses', ), kind='prior',
              scratch=(trees, )),
        shuffle_stage(opts, 'saliency', 'prior.saliency', kept),
        shuffle_stage(opts, 'hierarchies', 'prior.hierarchies'),
        oracle_stage(opts, 'saliency', 'prior.saliency', train_labels(opts),
                     kept),
        oracle_stage(opts, 'hierarchies', 'prior.hierarchies',
                     train_labels(opts)),
    ]


def shuffled_labels_stage(opts: SuiteOptions, labels: str, ids: str,
                          *deps: str) -> Stage:
    """Mix-and-Match's negative control: every train image given another
    image's label map."""
    out = f'{opts.work_dir}/priors/shuffled_labels'
    return Stage('prior.shuffled_labels',
                 ('tools/priors/shuffle_priors.py', labels, out, '--ids',
                  ids), (f'{out}/manifest.json', ), deps=deps, kind='prior',
                 scratch=(out, ))


def pretrain_stages(opts: SuiteOptions) -> list[Stage]:
    """Every pretrained row's pretraining, once per seed, on its prior (the
    shuffled copy for a negative control) or, for a positive control, on
    the train labels."""
    w, regime = opts.work_dir, opts.regime
    stages = []
    # hierarchical grouping first: its checkpoint makes the auxiliary labels
    for row in sorted(regime.rows, key=lambda r: r.name != 'hier_grouping'):
        if not row.pretrained or row.source:
            continue
        method = row.method or row.name
        config = (regime.eval_configs[row.arch]
                  if row.control == 'supervised'
                  else regime.pretrain_configs[method])
        env, deps, options = {}, (), ()
        if method in PRIOR_FOLDERS and row.control != 'supervised':
            folder, variable = PRIOR_FOLDERS[method]
            folder = {'shuffled_prior': 'shuffled_',
                      'oracle_prior': 'oracle_'}.get(row.control, '') + folder
            env = {variable: f'{w}/priors/{folder}'}
            deps = (f'prior.{folder}', )
        elif row.control == 'shuffled_prior':  # Mix-and-Match's labels
            # absolute: the dataset joins a relative prefix to its data_root
            options = ('train_dataloader.dataset.data_prefix.seg_map_path='
                       + osp.abspath(f'{w}/priors/shuffled_labels'), )
            deps = ('prior.shuffled_labels', )
        else:
            deps = opts.data_stage
        iters = opts.pretrain_iters(row.budget_key)
        for seed in opts.pretrain_seeds:
            suffix = opts.seed_dir(seed)
            start, after = (), ()
            if row.init_from == 'random':
                start = ('model.backbone.init_cfg=None', )
            elif row.init_from:  # that row's backbone of the same seed
                start = ('model.backbone.init_cfg.checkpoint='
                         f'{w}/{row.init_from}/backbone{suffix}.pth', )
                after = (f'{row.init_from}.extract{suffix}', )
            run = f'{w}/{row.name}/pretrain{suffix}'
            stages.append(
                Stage(f'{row.name}.pretrain{suffix}',
                      ('tools/train.py', config, '--work-dir', run,
                       '--max-iters', str(iters), '--cfg-options',
                       f'randomness.seed={seed}', *options, *start),
                      (f'{run}/iter_{iters}.pth', ), deps=deps + after,
                      env=_env(opts, **env), kind='pretrain'))
        if row.name == 'hier_grouping':  # the auxiliary labels' extractor
            stages += [aux_label_stage(opts),
                       shuffle_stage(opts, 'aux_labels', 'prior.aux_labels'),
                       oracle_stage(opts, 'aux_labels', 'prior.aux_labels',
                                    train_labels(opts))]
    return stages


def aux_label_stage(opts: SuiteOptions) -> Stage:
    """Auxiliary labels clustered from the suite's own hierarchical-grouping
    checkpoint: the best feature extractor this project can train without
    outside weights (its linear probe is the highest of the methods; labels
    from a 6-minute MaskContrast decoder scored PmIoU 3.79, near random)."""
    w = opts.work_dir
    out = f'{w}/priors/aux_labels'
    iters = opts.pretrain_iters('hier_grouping')
    root = opts.image_root
    if root:
        data = ('--images', f'{root}/images/train', '--ids',
                f'{root}/train.txt', '--num-classes',
                str(opts.regime.num_classes), '--gt-dir', train_labels(opts))
    else:
        data = ('--data', DATA_CONFIG, '--splits', 'train', '--gt-dir',
                f'{opts.voc_root}/SegmentationClass')
    return Stage(
        'prior.aux_labels',
        ('tools/priors/make_aux_labels.py', out,
         opts.regime.pretrain_configs['hier_grouping'],
         f'{w}/hier_grouping/pretrain/iter_{iters}.pth', *data, '--feature',
         'decoder', '--scales', *opts.regime.aux_scales),
        (f'{out}/aux_label_quality.json', f'{out}/manifest.json'),
        deps=('hier_grouping.pretrain', ), env=_env(opts), kind='prior',
        scratch=(out, ))


def eval_stages(opts: SuiteOptions, row: Row) -> list[Stage]:
    """Hand-off (pretrained rows) and the shared protocols: the linear probe
    on every pretraining seed (random init: every init seed), the others on
    the first seed's checkpoint."""
    w, regime = opts.work_dir, opts.regime
    base = f'{w}/{row.name}'
    source = f'{w}/{row.checkpoints_of}'
    config = regime.eval_configs[row.arch]
    out = f'{base}/eval'
    allow = (('--allow-missing', *row.allow_missing)
             if row.allow_missing else ())
    stages = []
    checkpoints, deps = {}, {}
    for seed in opts.pretrain_seeds:
        suffix = opts.seed_dir(seed)
        # random init reads the data only, which a stage may build
        images = opts.data_stage
        checkpoints[seed], deps[seed] = 'random', images
        if row.control == 'bn_stats':  # the seed's random init, data stats
            checkpoints[seed] = f'{source}/backbone{suffix}.pth'
            deps[seed] = (f'{row.checkpoints_of}.bn_stats{suffix}', )
            if not row.source:
                stages.append(
                    Stage(f'{row.name}.bn_stats{suffix}',
                          ('tools/eval/bn_statistics.py', config, 'random',
                           checkpoints[seed], '--seed', str(seed)),
                          (checkpoints[seed], ), deps=images,
                          env=_env(opts)))
            continue
        if not row.pretrained:
            continue
        checkpoints[seed] = f'{source}/backbone{suffix}.pth'
        deps[seed] = (f'{row.checkpoints_of}.extract{suffix}', )
        if row.source:  # the source row hands its checkpoints off
            continue
        iters = opts.pretrain_iters(row.budget_key)
        stages.append(
            Stage(f'{row.name}.extract{suffix}',
                  ('tools/model_converters/extract_pretrained.py',
                   f'{base}/pretrain{suffix}/iter_{iters}.pth',
                   checkpoints[seed], '--target', config, '--parts',
                   'backbone', *allow),
                  (checkpoints[seed], ),
                  deps=(f'{row.name}.pretrain{suffix}', ), env=_env(opts)))
    def frozen(checkpoint: str) -> tuple[str, ...]:
        """The frozen protocols' model arguments."""
        index = (('--in-index', str(row.in_index))
                 if row.in_index != -1 else ())
        return (config, checkpoint, '--feature', 'backbone', *index, *allow)

    for seed in opts.pretrain_seeds:
        suffix = opts.seed_dir(seed)
        probe_out = opts.probe_dir(out, seed)
        stages.append(
            Stage(f'{row.name}.linear_probe{suffix}',
                  ('tools/eval/linear_probe.py', *frozen(checkpoints[seed]),
                   '--probe-config', regime.probe_config, '--seed',
                   str(seed), '--work-dir', f'{base}/probe{suffix}',
                   '--out-dir', probe_out, '--cfg-options',
                   f'train_cfg.max_epochs={opts.probe_epochs}',
                   'param_scheduler.0.milestones='
                   f'[{max(1, round(opts.probe_epochs * 0.7))}]'),
                  (f'{probe_out}/linear_probe.json', ), deps=deps[seed],
                  env=_env(opts), scratch=(f'{base}/probe{suffix}', )))
    first = opts.pretrain_seeds[0]
    data = ('--data', regime.data_config) if regime.data_config else ()
    model = (config, checkpoints[first])
    deps, first_frozen = deps[first], frozen(checkpoints[first])
    if checkpoints[first] == 'random':  # the probe's first init, seeded
        first_frozen += ('--init-seed', str(first))
    stages.append(
        Stage(f'{row.name}.kmeans',
              ('tools/eval/kmeans.py', *first_frozen, '--ks',
               *[str(k) for k in regime.kmeans_ks], '--seeds',
               *[str(s) for s in opts.kmeans_seeds], *data, '--out-dir',
               out),
              (f'{out}/kmeans_pixel.json', ), deps=deps, env=_env(opts)))
    others = [
        Stage(f'{row.name}.retrieval',
              ('tools/eval/retrieval.py', *first_frozen, '--segments', '15',
               '--out-dir', out),
              (f'{out}/retrieval.json', ), deps=deps, env=_env(opts)),
        Stage(f'{row.name}.davis',
              ('tools/eval/propagate_davis.py', *first_frozen, '--davis',
               opts.davis_root, '--out-dir', out),
              (f'{out}/davis_propagation.json', ), deps=deps),
    ]
    stages += [s for s in others if s.name.split('.')[-1] in regime.protocols]
    if not row.finetune:
        return stages
    seeds = [str(s) for s in opts.finetune_seeds]
    ft_iters = str(opts.iters(opts.finetune_iters))
    for fraction in regime.fractions:
        split_seeds = ['0'] if fraction == '100' else seeds
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


def suite_stages(opts: SuiteOptions) -> list[Stage]:
    """All stages of ``opts.suite`` in an order that respects their
    dependencies."""
    priors = {'mosaic': mosaic_prior_stages,
              'camvid': camvid_prior_stages,
              'horses': horses_prior_stages}.get(opts.suite, prior_stages)
    stages = priors(opts) + pretrain_stages(opts)
    for row in opts.regime.rows:
        stages += eval_stages(opts, row)
    return dependency_order(stages)


def dependency_order(stages: list[Stage]) -> list[Stage]:
    """``stages`` in their order, except that a stage waits until its
    dependencies are placed (a pretraining that starts from another row's
    extracted backbone comes after that hand-off)."""
    placed: set[str] = set()
    waiting, ordered = list(stages), []
    while waiting:
        ready = next((s for s in waiting if set(s.deps) <= placed), None)
        if ready is None:  # an unknown dependency: check_stages names it
            return ordered + waiting
        waiting.remove(ready)
        ordered.append(ready)
        placed.add(ready.name)
    return ordered


SUITES = tuple(REGIMES)
