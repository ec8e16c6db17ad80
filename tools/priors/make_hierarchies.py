"""Region hierarchies for hierarchical grouping (offline prior).

    python tools/priors/make_hierarchies.py OUT_DIR
        (--images DIR [--ids FILE] | --data DATA_CONFIG [--splits train])
        [--edges structured_forest|colour_gradient|contour_net]
        [--edge-model packaged|MODEL.yml.gz]
        [--(no-)edge-multiscale] [--edge-sharpen 0|1|2]
        [--spectral 0.1] [--spectral-size 96]
        [--edge-config CFG --edge-checkpoint PTH]
        [--max-leaves 40] [--min-area 0.005] [--arcs nms|owt]
        [--workers 2] [--shard K/N]
        [--picture N] [--strict] [--save-edges]

Per image: edges, oriented watershed + mean-boundary UCM (higra), the tree
cut to at most --max-leaves finest regions. The default edges are the
paper's: structured edge forests at three scales (SE-MS) combined with their
spectral signal (--spectral, 0.1). The default forest is the one shipped
with mmssl_seg (8 trees trained on BSDS500 by
tools/priors/train_structured_edges.py; its command and sha256 in
mmssl_seg/priors/hierarchy/models/metafile.yml); --edge-model takes another
model.yml.gz. colour_gradient needs no training. Writes
OUT_DIR/trees/<stem>.npz (leaf map, parents, altitudes: what
LoadRegionHierarchy reads),
OUT_DIR/ucm2/<stem>.png (the whole UCM, for tools/eval/bsds_benchmark.py),
OUT_DIR/ids.txt, OUT_DIR/manifest.json and OUT_DIR/hierarchies.png (with
--save-edges also OUT_DIR/edges/<stem>.png, the thinned edges that
bsds_benchmark.py --edges scores). Reruns
skip finished images; shards can run on different machines into one folder.
"""
import argparse
import os.path as osp
import time

#: The library's defaults (mmssl_seg.priors.hierarchy), spelled out so that
#: --help answers without importing it; tests/test_tools.py keeps them equal.
DEFAULT_FOREST = 'packaged'
DEFAULT_MULTISCALE = True
DEFAULT_SHARPEN = 2
DEFAULT_SPECTRAL = 0.1
DEFAULT_SPECTRAL_SIZE = 96
ARC_STRENGTHS = ('owt', 'nms')
DEFAULT_ARCS = 'owt'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('out_dir')
    parser.add_argument('--images', help='folder of images')
    parser.add_argument('--ids', help='file of image stems to use')
    parser.add_argument('--data', help='dataset config instead of --images')
    parser.add_argument('--splits', nargs='+', default=['train'])
    parser.add_argument('--edges', default='structured_forest',
                        choices=['structured_forest', 'colour_gradient',
                                 'contour_net'])
    parser.add_argument('--edge-model', default=DEFAULT_FOREST,
                        help="structured forest: 'packaged' (the 8-tree "
                        'BSDS500 forest shipped with mmssl_seg) or a '
                        'model.yml.gz')
    parser.add_argument('--edge-multiscale', default=DEFAULT_MULTISCALE,
                        action=argparse.BooleanOptionalAction,
                        help='structured edges at 3 scales (SE-MS; '
                        '--no-edge-multiscale: one scale, 5x faster)')
    parser.add_argument('--edge-sharpen', type=int, choices=(0, 1, 2),
                        default=DEFAULT_SHARPEN,
                        help="the SE toolbox's sharpening of structured "
                        'edges (needs forest.npz beside the model)')
    parser.add_argument('--spectral', type=float,
                        help='share of the spectral signal (sPb) combined '
                        f'with the edges (0: none; default {DEFAULT_SPECTRAL}'
                        ' for structured edges, 0 for the others)')
    parser.add_argument('--spectral-size', type=int,
                        default=DEFAULT_SPECTRAL_SIZE,
                        help='longer side of the map the spectral '
                        'eigenproblem runs on')
    parser.add_argument('--edge-config', help='contour detector config')
    parser.add_argument('--edge-checkpoint', help='its trained weights')
    parser.add_argument('--max-leaves', type=int, default=40)
    parser.add_argument('--min-area', type=float, default=0.005,
                        help='merge regions below this image fraction first')
    parser.add_argument('--arcs', choices=ARC_STRENGTHS, default=DEFAULT_ARCS,
                        help="the watershed arcs' strength: owt (oriented "
                        "watershed) or nms (SE's non-maximum suppression)")
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--shard', help='K/N: this machine does part K of N')
    parser.add_argument('--strict', action='store_true',
                        help='stop at the first unreadable image (default: '
                        'skip it, list it, exit 1 at the end)')
    parser.add_argument('--save-edges', action='store_true',
                        help='also write the thinned edge maps')
    parser.add_argument('--picture', type=int, default=4,
                        help='images in OUT_DIR/hierarchies.png (0: none)')
    args = parser.parse_args(argv)
    if not 1 <= args.max_leaves <= 255:
        parser.error(f'--max-leaves must be in 1..255, got {args.max_leaves}')
    if args.edges == 'contour_net' and not (args.edge_config and
                                            args.edge_checkpoint):
        parser.error('--edges contour_net needs --edge-config and '
                     '--edge-checkpoint (a trained contour-net_*)')
    return args


def build_detector(args: argparse.Namespace):
    from mmssl_seg.priors.hierarchy import SpectralEdges
    detector = build_local_detector(args)
    spectral = args.spectral
    if spectral is None:  # the paper's combination for structured edges
        spectral = DEFAULT_SPECTRAL if args.edges == 'structured_forest' else 0
    return SpectralEdges(detector, spectral, args.spectral_size) if (
        spectral) else detector


def build_local_detector(args: argparse.Namespace):
    from mmssl_seg.priors.hierarchy import (
        ColourGradientEdges,
        ContourNetEdges,
        StructuredForestEdges,
    )
    if args.edges == 'structured_forest':
        if args.edge_model != DEFAULT_FOREST and not osp.isfile(
                args.edge_model):
            train = ('python tools/priors/train_structured_edges.py ' +
                     (osp.dirname(args.edge_model) or '.'))
            raise SystemExit(
                f'structured edges need a trained forest: {args.edge_model} '
                'does not exist. Train one on BSDS500 (about 15 min on 2 '
                f'cores, resumable):\n    {train}\nor leave --edge-model '
                'out (the packaged forest), or --edges colour_gradient '
                '(no learning).')
        return StructuredForestEdges(args.edge_model, args.edge_multiscale,
                                     args.edge_sharpen)
    if args.edges == 'contour_net':
        return ContourNetEdges(args.edge_config, args.edge_checkpoint)
    return ColourGradientEdges()


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        run(args)


def run(args: argparse.Namespace) -> None:
    from mmssl_seg.priors.hierarchy import make_hierarchies
    from mmssl_seg.priors.manifest import (
        exit_on_failures,
        list_images,
        parse_shard,
    )
    from mmssl_seg.structures import RegionTree
    from mmssl_seg.utils.io import read_image
    from mmssl_seg.visualization import save_hierarchy_picture
    start = time.time()
    shard_spec = parse_shard(args.shard)
    images = list_images(args.images, args.ids, args.data, args.splits)
    detector = build_detector(args)
    result = make_hierarchies(images, args.out_dir, detector,
                              max_leaves=args.max_leaves,
                              min_area=args.min_area, workers=args.workers,
                              shard_spec=shard_spec, strict=args.strict,
                              save_edges=args.save_edges, arcs=args.arcs)
    print(f'{len(result["entries"])} hierarchies in {args.out_dir} '
          f'({result["seconds_per_image"]:.2f} s per image; all shards '
          f'complete: {result["complete"]}; {time.time() - start:.0f} s)')
    if args.picture:
        examples = []
        for stem, path in [i for i in images
                           if i[0] not in result['failed']][:args.picture]:
            image = read_image(path)
            tree = RegionTree.load(osp.join(args.out_dir, 'trees',
                                            stem + '.npz'))
            examples.append((image, detector(image)[0], tree))
        save_hierarchy_picture(examples,
                               osp.join(args.out_dir, 'hierarchies.png'))
    exit_on_failures(result)


if __name__ == '__main__':
    main()
