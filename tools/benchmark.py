"""Every method against random init and its controls under one budget, one
command, one table: priors, pretraining and the shared evaluations, then the
table in Markdown and JSON. Four regimes: ``voc12_mini`` (voc12_mini,
BSDS500 and DAVIS 2016; docs/benchmarks.md; a GPU regime), ``mosaic`` (the
quick-start's texture mosaics, built by the suite;
docs/benchmarks_mosaic.md), ``camvid`` (CamVid street scenes at a third
of their resolution; docs/benchmarks_camvid.md) and ``horses`` (the Weizmann
horses, converted by the suite; MaskContrast from MMPretrain's MoCo v2;
docs/benchmarks_horses.md). Controls: per
architecture a supervised positive control (``supervised_*`` rows; with
random init it gives each protocol's headroom), per architecture random init
with the train images' batch-norm statistics (``random_bn_stats_*``: what
frozen features gain from a pretraining's statistics alone), per method a
negative control on another image's prior (``shuffled_prior_*``) and an
oracle control on the prior rebuilt from the train labels
(``oracle_prior_*``: can the regime tell a right prior from a wrong one?);
the linear probe runs on 3 pretraining seeds.

    python tools/benchmark.py [--suite voc12_mini|mosaic|camvid|horses]
        [--scale 1]
        [--cpu-budget]
        [--pretrain-minutes M] [--finetune-iters N] [--work-dir DIR]
        [--only PREFIX ...] [--dry-run] [--report-only] [--results DIR]

Stages are cached: a rerun skips what is done and retries what failed; an
edited config (or a base of it, or a config upstream) or an edited file of the
code a stage runs (its tool and the package files it reaches,
benchmarks/suite/code.py) runs that stage and what depends on it again
(records, with the commit they ran, and logs under WORK_DIR/stages and
WORK_DIR/logs). The suite itself lives in benchmarks/suite/, beside the speed
scripts, not in the package; the tool runs from any folder. Every stage that
finishes also goes to a results archive in the repository
(docs/benchmark_stages/SUITE: its record and its JSON results, no
checkpoints); a run on a machine without the cache takes what is there, so the
suite outlives one machine: a stage whose files are gone runs again only if a
stage that runs reads them (--dry-run: 'not needed'), and what depends on it
keeps its results. --scale N multiplies every training length (pretraining,
fine-tuning), e.g. on a GPU; the structured edge forest of the region trees
keeps the SE paper's budget (15 min on 2 idle cores, once). Budget defaults
are the regime's (voc12_mini: 6 min per pretraining, 100 fine-tuning
iterations; mosaic: 8 min, 120; camvid: 4 min, 250; horses: 6 min, 250).
The table's notes come from docs/benchmarks_notes.md
(docs/benchmarks_SUITE_notes.md).
"""
import argparse
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


#: The regimes (benchmarks.suite.SUITES; tests keep them equal).
SUITES = ('camvid', 'horses', 'mosaic', 'voc12_mini')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--suite', choices=SUITES, default='voc12_mini')
    parser.add_argument('--work-dir',
                        help='default: work_dirs/benchmark/SUITE')
    parser.add_argument('--scale', type=float, default=1.0)
    parser.add_argument('--cpu-budget', action='store_true',
                        help='run voc12_mini at scale 1 anyway (its '
                        'archived CPU page: it cannot separate methods)')
    parser.add_argument('--pretrain-minutes', type=float,
                        help="default: the suite's")
    parser.add_argument('--finetune-iters', type=int,
                        help="default: the suite's")
    parser.add_argument('--voc-root', help='default: data/voc12_mini/...')
    parser.add_argument('--bsds-root', help='default: data/bsds500')
    parser.add_argument('--davis-root', help='default: data/davis2016')
    parser.add_argument('--camvid-root', help='default: data/camvid')
    parser.add_argument('--horse-source',
                        help='default: data/weizmann_horse (rgb/, '
                        'figure_ground/; the suite converts it)')
    parser.add_argument('--only', nargs='+',
                        help='run only stages whose names start so')
    parser.add_argument('--results', help='results archive; default: '
                        'docs/benchmark_stages/SUITE (SUITE_scaleN) for the '
                        'default work dir, none for another')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands and their state')
    parser.add_argument('--report-only', action='store_true',
                        help='write the table from what is done (a run '
                        'writes it only when every stage is done)')
    parser.add_argument('--out', help='default: docs/benchmarks.md '
                        '(voc12_mini), docs/benchmarks_SUITE.md (others)')
    parser.add_argument('--notes', help='default: beside --out, '
                        '<name>_notes.md')
    args = parser.parse_args(argv)
    if (args.suite == 'voc12_mini' and args.scale == 1 and not args.cpu_budget
            and not (args.dry_run or args.report_only)):
        parser.error('voc12_mini cannot separate methods at CPU budgets '
                     '(docs/benchmarks.md: the supervised control is 0.5-1.6 '
                     'points above random init): run it on a GPU with '
                     '--scale N, or --suite mosaic on a CPU (--cpu-budget '
                     'reruns the CPU page)')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    # paths the user typed are relative to where they typed them; the
    # suite's own are relative to the repository, where its commands run
    for name in ('work_dir', 'results', 'out', 'notes', 'voc_root',
                 'bsds_root', 'davis_root', 'camvid_root', 'horse_source'):
        if getattr(args, name) is not None:
            setattr(args, name, osp.abspath(getattr(args, name)))
    os.chdir(REPO)
    sys.path.insert(0, REPO)  # the suite lives beside the speed scripts
    from benchmarks.suite import (
        SuiteOptions,
        collect,
        run_stages,
        suite_stages,
        write_table,
    )
    defaults = SuiteOptions()
    for name in ('voc_root', 'bsds_root', 'davis_root', 'camvid_root',
                 'horse_source'):
        if getattr(args, name) is None:
            setattr(args, name, getattr(defaults, name))
    page = ('benchmarks' if args.suite == 'voc12_mini' else
            f'benchmarks_{args.suite}')
    args.out = args.out or f'docs/{page}.md'
    args.notes = args.notes or osp.splitext(args.out)[0] + '_notes.md'
    opts = SuiteOptions(
        suite=args.suite, work_dir=args.work_dir, scale=args.scale,
        pretrain_minutes=args.pretrain_minutes,
        finetune_iters=args.finetune_iters,
        voc_root=args.voc_root, bsds_root=args.bsds_root,
        davis_root=args.davis_root, camvid_root=args.camvid_root,
        horse_source=args.horse_source)
    if args.results is None and args.work_dir is None:
        scale = f'_scale{args.scale:g}' if args.scale != 1 else ''
        args.results = f'docs/benchmark_stages/{args.suite}{scale}'
    stages = suite_stages(opts)
    if args.dry_run or args.report_only:
        from benchmarks.suite.stages import plan, restore_results
        if args.results:
            restore_results(stages, opts.work_dir, args.results)
    if args.dry_run:
        states = plan(stages, opts.work_dir, REPO)
        for stage in stages:
            print(f'[{states[stage.name]}] {stage.name}\n'
                  f'    {stage.command()}')
        return 0
    status = {}
    if not args.report_only:
        status = run_stages(stages, opts.work_dir, REPO, args.only,
                            results=args.results)
    left = [k for k, v in status.items() if v not in ('cached', 'done')]
    if left:  # a part of the suite (--only, a failure) keeps the page
        print(f'{len(left)} stages not done: {args.out} left as it was '
              '(--report-only writes it from what is done)')
    else:
        notes = open(args.notes).read() if osp.isfile(args.notes) else ''
        write_table(collect(opts, stages, args.results), args.out,
                    osp.splitext(args.out)[0] + '.json', notes)
        print(f'wrote {args.out}')
    bad = {k: v for k, v in status.items() if v in ('failed', 'blocked')}
    for name, state in bad.items():
        print(f'{state}: {name}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
