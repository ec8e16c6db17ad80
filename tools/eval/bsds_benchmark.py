"""BSDS500 benchmark of region hierarchies: boundary ODS / OIS / AP and
segmentation covering, next to the published gPb-OWT-UCM numbers; or, with
--edges, of thinned edge maps (boundaries only, as the SE toolbox's
edgesEval).

    python tools/eval/bsds_benchmark.py UCM_DIR [--edges]
        [--gt-dir data/bsds500/groundTruth/test]
        [--reference data/bsds500/ucm2_gpb/test_eval]
        [--thresholds 99] [--workers 2] [--limit N] [--name NAME]
        [--matcher official|exact]
        [--out-dir UCM_DIR/..]

UCM_DIR holds ucm2 maps: make_hierarchies.py's OUT_DIR/ucm2 (PNG) or the
BSDS code's .mat files (e.g. data/bsds500/ucm2_gpb/val, a check of
this implementation); with --edges, make_hierarchies.py --save-edges's
OUT_DIR/edges. Writes bsds_benchmark.{json,md} (bsds_edges.{json,md}).
"""
import argparse
import os.path as osp
import time

DATA = osp.join(osp.dirname(__file__), '..', '..', '..', 'shared', 'data',
                'bsds500')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('ucm_dir')
    parser.add_argument('--edges', action='store_true',
                        help='UCM_DIR holds thinned edge maps: boundary '
                        'scores only')
    parser.add_argument('--gt-dir',
                        default=osp.join(DATA, 'groundTruth', 'test'))
    parser.add_argument('--reference',
                        default=osp.join(DATA, 'ucm2_gpb', 'test_eval'),
                        help='folder of the BSDS code\'s eval_*.txt')
    parser.add_argument('--thresholds', type=int, default=99)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--limit', type=int)
    parser.add_argument('--matcher', choices=['official', 'exact'],
                        default='official',
                        help="official: the benchmark's correspondPixels "
                        '(compare with published numbers); exact: maximum '
                        'matching, about 12x faster, ODS/OIS/AP about 0.001 '
                        'higher')
    parser.add_argument('--name', help='row name (default: UCM_DIR)')
    parser.add_argument('--out-dir')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.evaluation.protocols.bsds import (
        evaluate_edge_maps,
        evaluate_hierarchies,
        read_reference,
    )
    from mmssl_seg.evaluation.report import write_report
    from mmssl_seg.utils.errors import one_line_errors
    start = time.time()
    evaluate = evaluate_edge_maps if args.edges else evaluate_hierarchies
    with one_line_errors():
        result = evaluate(args.ucm_dir, args.gt_dir, args.thresholds,
                          args.workers, args.limit, args.matcher)
    result['ucm_dir'] = args.ucm_dir
    result['gt_dir'] = args.gt_dir
    seconds = time.time() - start
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.ucm_dir))
    keys = ('ODS', 'OIS', 'AP') if args.edges else (
        'ODS', 'OIS', 'AP', 'covering_ODS', 'covering_OIS')
    if osp.isdir(args.reference or ''):
        result['reference'] = read_reference(args.reference)
    kind = 'edges' if args.edges else 'hierarchies'
    write_report(out_dir, 'bsds_edges' if args.edges else 'bsds_benchmark',
                 result, {
                     kind: args.name or args.ucm_dir,
                     'images': result['images'],
                     **{k: round(result[k], 3) for k in keys},
                     'thresholds': result['thresholds'],
                     'matcher': args.matcher,
                     'wall time': f'{seconds:.0f} s'})
    print(' '.join(f'{k} {result[k]:.3f}' for k in keys))
    if 'reference' in result:
        print('gPb-OWT-UCM (published, test): ' + ' '.join(
            f'{k} {v:.3f}' for k, v in result['reference'].items()))


if __name__ == '__main__':
    main()
