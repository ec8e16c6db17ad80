"""Turn a pretraining checkpoint into a tensors-only file for stock MMSeg.

    python tools/model_converters/extract_pretrained.py SRC DST \
        --target TARGET_CONFIG \
        [--parts backbone decode_head] [--weights {online,momentum}] \
        [--source-prefix backbone=module.encoder_q.] \
        [--source-layout caffe-vgg16] \
        [--allow-missing REGEX ...] [--allow-unexpected REGEX ...]

SRC may be any checkpoint (an mmengine training checkpoint with momentum
copies,
queues and heads, an MMPretrain or MMSeg model, a MoCo file); it is read
without running any code it names. DST holds only the tensors of the chosen
parts, keyed as in the target model (``backbone.*``, ``decode_head.*``), and
loads with ``weights_only=True``. Key layouts are remapped where MMPretrain and
MMSeg differ (the ResNetV1c stem). Missing, unexpected or mis-shaped keys stop
the conversion unless allowed. Fine-tune with
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``.
"""
import argparse
import sys

#: mmssl_seg.checkpoint.layouts' SOURCE_LAYOUTS and DEFAULT_NEW_LAYERS,
#: spelled out for a fast --help (tests keep them equal)
SOURCE_LAYOUTS = ('caffe-vgg16', )
DEFAULT_NEW_LAYERS = ('conv_seg', )


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('src', help='pretraining checkpoint')
    parser.add_argument('dst', help='output: tensors-only checkpoint')
    parser.add_argument(
        '--target', required=True,
        help='config of the downstream model the weights must fit')
    parser.add_argument(
        '--parts', nargs='+', default=['backbone'],
        help='parts of the target model to fill (default: backbone)')
    parser.add_argument(
        '--weights', choices=['online', 'momentum'], default='online',
        help='take the online weights or the momentum (EMA) copy')
    parser.add_argument(
        '--source-prefix', nargs='+', default=[], metavar='PART=PREFIX',
        help='where a part lives in SRC, e.g. backbone=module.encoder_q.')
    parser.add_argument(
        '--source-layout', choices=sorted(SOURCE_LAYOUTS),
        help='translate the whole file first, e.g. caffe-vgg16: a VGG16 '
        'named by its Caffe layers (a colorization net, grey conv1_1)')
    parser.add_argument(
        '--new-layers', nargs='*', default=list(DEFAULT_NEW_LAYERS),
        help='target submodules trained from scratch (default: conv_seg)')
    parser.add_argument(
        '--allow-missing', nargs='*', default=[], metavar='REGEX',
        help='target keys that may stay randomly initialised')
    parser.add_argument(
        '--allow-unexpected', nargs='*', default=[], metavar='REGEX',
        help='source keys of the parts that may be dropped')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    prefixes = {}
    for item in args.source_prefix:
        part, sep, prefix = item.partition('=')
        if not sep:
            raise SystemExit(f'--source-prefix takes PART=PREFIX, got {item}')
        prefixes[part] = prefix
    from mmssl_seg.checkpoint.converter import extract_pretrained
    from mmssl_seg.utils.errors import one_line_errors
    with one_line_errors():
        reports = extract_pretrained(
            args.src, args.dst, args.target, parts=args.parts,
            weights=args.weights, source_prefixes=prefixes,
            source_layout=args.source_layout,
            new_layers=args.new_layers, allow_missing=args.allow_missing,
            allow_unexpected=args.allow_unexpected)
    print(f'{"part":<14}{"from":<34}{"layout":<40}{"tensors":>8}'
          f'{"params":>12}')
    for r in reports:
        print(f'{r.part:<14}{r.source_prefix:<34}{r.remap:<40}{r.tensors:>8}'
              f'{r.parameters:>12,}')
        for label, keys in (('new (random init)', r.new_layers),
                            ('allowed missing', r.allowed_missing),
                            ('dropped (allowed)', r.ignored_unexpected),
                            ('dropped (a head of the source layout: '
                             'torchvision classifier / MoCo projection MLP)',
                             r.dropped_heads)):
            if keys:
                print(f'  {label}: {", ".join(keys)}')
    if reports and reports[0].left_out:
        print(f'not taken (outside the prefixes above): '
              f'{reports[0].left_out}')
    print(f'wrote {args.dst} (tensors only; loads with weights_only=True)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
