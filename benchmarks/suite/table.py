"""The suite's one table: methods as rows, read from the JSON every stage
leaves behind, written to Markdown and JSON."""
from __future__ import annotations

import datetime
import json
import os
import os.path as osp
import platform
from typing import Any, Sequence

import numpy as np

from mmssl_seg.evaluation.functional import constant_prediction_miou
from mmssl_seg.utils.io import atomic_path, write_json

from .plot import plot_linear_probe
from .stages import Stage, read_record
from .suite import SuiteOptions


def _load(path: str) -> dict | None:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _get(d: dict | None, *keys: str) -> Any:
    for key in keys:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def hardware() -> str:
    import torch
    device = (torch.cuda.get_device_name(0) if torch.cuda.is_available()
              else 'no GPU')
    return (f'{platform.processor() or platform.machine()}, '
            f'{os.cpu_count()} CPU cores, {device}, torch {torch.__version__}')


def background_floor(voc_root: str) -> dict | None:
    """val mIoU of predicting background everywhere (None without data)."""
    ids_file = osp.join(voc_root, 'ImageSets', 'Segmentation', 'val.txt')
    if not osp.isfile(ids_file):
        return None
    with open(ids_file) as f:
        ids = f.read().split()
    return constant_prediction_miou(
        [osp.join(voc_root, 'SegmentationClass', f'{i}.png') for i in ids],
        num_classes=21)


def majority_floor(root: str, num_classes: int,
                   labels: str = 'annotations') -> dict | None:
    """val mIoU of predicting the commonest val class everywhere, for a
    data set without a background class (the mosaics, CamVid), whose val
    label maps are ``root/<labels>/val/<id>.png``."""
    ids_file = osp.join(root, 'val.txt')
    if not osp.isfile(ids_file):
        return None
    with open(ids_file) as f:
        files = [osp.join(root, labels, 'val', f'{i}.png')
                 for i in f.read().split()]
    floors = [dict(constant_prediction_miou(files, num_classes, label=k),
                   label=k) for k in range(num_classes)]
    return max(floors, key=lambda f: f['mIoU'])


def kmeans_keys(opts: SuiteOptions) -> tuple[str, str]:
    """Row keys of the K-means protocol: K = classes (Hungarian) and the
    overclustering (majority)."""
    return tuple(f'kmeans_{k}' for k in opts.regime.kmeans_ks)


def protocols(opts: SuiteOptions) -> tuple[tuple[str, str], ...]:
    """(column title, row key) of every protocol the suite runs."""
    (k, over), keys = opts.regime.kmeans_ks, kmeans_keys(opts)
    cols = [('linear probe', 'linear_probe'), (f'K-means K={k}', keys[0]),
            (f'K-means K={over}', keys[1])]
    cols += [(f'fine-tune {f} %', f'finetune_{f}')
             for f in opts.regime.fractions]
    if 'retrieval' in opts.regime.protocols:
        cols.append(('retrieval', 'retrieval'))
    if 'davis' in opts.regime.protocols:
        cols += [('DAVIS J', 'davis_J'), ('DAVIS F', 'davis_F')]
    return tuple(cols)


def collect(opts: SuiteOptions, stages: Sequence[Stage],
            results: str | None = None) -> dict:
    """Every number of the table, plus stage wall times and commands.

    Args:
        results: A results archive (``stages.save_results``) to read what
            the work dir lacks, e.g. a prior's quality report whose prior
            is not here.
    """
    w = opts.work_dir

    def quality(rel: str) -> dict | None:
        found = _load(f'{w}/{rel}')
        return found if found or not results else _load(f'{results}/{rel}')

    priors = {
        'saliency': quality('priors/saliency/saliency_quality.json'),
        'aux_labels': quality('priors/aux_labels/aux_label_quality.json'),
        'bsds': quality('priors/bsds_test/bsds_benchmark.json'),
        'floor': (majority_floor(opts.mosaic_root, opts.regime.num_classes)
                  if opts.suite == 'mosaic' else
                  majority_floor(opts.camvid_root, opts.regime.num_classes,
                                 'labels')
                  if opts.suite == 'camvid' else
                  majority_floor(opts.horse_root, opts.regime.num_classes)
                  if opts.suite == 'horses' else
                  background_floor(opts.voc_root)),
    }
    rows = []
    for row in opts.regime.rows:
        out = f'{w}/{row.name}/eval'
        kmeans = _load(f'{out}/kmeans_pixel.json')
        davis = _load(f'{out}/davis_propagation.json')
        pre = read_record(w, f'{row.checkpoints_of}.pretrain')
        probes = {}
        for seed in opts.pretrain_seeds:
            value = _get(_load(f'{opts.probe_dir(out, seed)}/'
                               'linear_probe.json'), 'val_mIoU')
            if value is not None:
                probes[str(seed)] = value
        fine_tunes = {
            f'finetune_{f}': _get(_load(f'{out}/finetune_{f}/'
                                        'label_fraction.json'),
                                  'mIoU_per_fraction', f)
            for f in opts.regime.fractions}
        rows.append({
            'name': row.name, 'title': row.title, 'arch': row.arch,
            'features': row.features, 'prior': row.prior,
            'control': row.control, 'prior_is_labels': row.prior_is_labels,
            'init_from': row.init_from,
            'pretrain_iters': (opts.pretrain_iters(row.budget_key)
                               if row.pretrained else 0),
            'pretrain_seconds': _get(pre, 'wall_seconds'),
            'linear_probe': (float(np.mean(list(probes.values())))
                             if probes else None),
            'linear_probe_std': (float(np.std(list(probes.values())))
                                 if probes else None),
            'linear_probe_seeds': probes,
            **{key: _get(kmeans, 'K', str(k), 'mIoU') for k, key in zip(
                opts.regime.kmeans_ks, kmeans_keys(opts))},
            **fine_tunes,
            'retrieval': _get(_load(f'{out}/retrieval.json'), 'mIoU'),
            'davis_J': _get(davis, 'J'),
            'davis_F': _get(davis, 'F'),
        })
    records = {s.name: read_record(w, s.name) for s in stages}
    return {
        'controls': controls(rows, protocols(opts)),
        'protocols': [list(p) for p in protocols(opts)],
        'suite': opts.suite,
        'data': opts.regime.description,
        'date': datetime.datetime.now().isoformat(timespec='seconds'),
        'hardware': hardware(),
        # a suite resumed from a results archive ran on several machines
        'machines': sorted({r['machine'] for r in records.values()
                            if r and r.get('machine')}),
        'options': {k: (list(v) if isinstance(v, tuple) else v)
                    for k, v in vars(opts).items()},
        'priors': priors,
        'rows': rows,
        'stages': {
            s.name: {'kind': s.kind, 'command': s.command(),
                     'status': _get(records[s.name], 'status') or 'not run',
                     'wall_seconds': _get(records[s.name], 'wall_seconds')}
            for s in stages
        },
    }


#: Controls trained on the ground truth (not rows "without labels").
LABELLED_CONTROLS = ('supervised', 'oracle_prior')
#: Headroom (positive control - random init) under which a protocol
#: cannot separate methods.
MIN_HEADROOM = 3.0


def _value(row: dict, key: str) -> float | None:
    value = row.get(key)
    return value['mean'] if isinstance(value, dict) else value


def _separates(a: dict, b: dict) -> tuple[float, bool] | None:
    """Linear-probe gap ``a - b`` and whether it exceeds twice the larger
    std over pretraining seeds (both rows need two seeds or more)."""
    if a['linear_probe'] is None or b['linear_probe'] is None:
        return None
    gap = a['linear_probe'] - b['linear_probe']
    seeded = min(len(a['linear_probe_seeds']),
                 len(b['linear_probe_seeds'])) >= 2
    noise = 2 * max(a['linear_probe_std'], b['linear_probe_std'])
    return gap, seeded and gap > noise


def controls(rows: Sequence[dict],
             columns: Sequence[tuple[str, str]]) -> dict:
    """Headroom of every protocol per evaluated feature (positive control
    minus random init; ``separates`` where it is at least
    :data:`MIN_HEADROOM` points) and each method's linear-probe verdicts
    against random init and its negative control."""
    def find(features: str, control: str, pretrained: bool) -> dict | None:
        return next((r for r in rows if r['features'] == features
                     and r['control'] == control
                     and bool(r['pretrain_iters']) == pretrained), None)

    headroom = {}
    for features in dict.fromkeys(r['features'] for r in rows):
        random, positive = (find(features, '', False),
                            find(features, 'supervised', True))
        statistics = find(features, 'bn_stats', False)
        if random is None or positive is None:
            continue
        for title, key in columns:
            low, high = _value(random, key), _value(positive, key)
            if low is not None and high is not None:
                cell = {'headroom': high - low,
                        'separates': high - low >= MIN_HEADROOM}
                stats = statistics and _value(statistics, key)
                if stats is not None:  # what is left for learned weights
                    cell['over_bn_stats'] = high - stats
                    cell['separates_over_bn_stats'] = (
                        high - stats >= MIN_HEADROOM)
                headroom.setdefault(features, {})[key] = cell
    verdicts = {}
    for row in rows:
        if row['control'] or not row['pretrain_iters']:
            continue
        control = {c: next((r for r in rows if r['control'] == c
                            and r['name'] == f'{c}_{row["name"]}'), None)
                   for c in ('shuffled_prior', 'oracle_prior')}
        negative, oracle = control['shuffled_prior'], control['oracle_prior']
        if row.get('prior_is_labels'):  # the method is its own oracle
            oracle = row
        verdict = {}
        for name, other in (
                ('random', find(row['features'], '', False)),
                ('bn_stats', find(row['features'], 'bn_stats', False)),
                ('negative', negative)):
            result = other and _separates(row, other)
            if result:
                verdict[f'gap_to_{name}'], verdict[f'beats_{name}'] = result
        # the regime's power for this method: does a right prior (the
        # ground truth's) beat a wrong one (another image's)?
        result = oracle and negative and _separates(oracle, negative)
        if result:
            (verdict['oracle_gap_to_negative'],
             verdict['oracle_beats_negative']) = result
        # a method started from another row's weights (MaskContrast from
        # MoCo v2) must add to them
        start = next((r for r in rows
                      if r['name'] == row.get('init_from')), None)
        result = start and _separates(row, start)
        if result:
            verdict['start'] = start['name']
            verdict['gap_to_start'], verdict['beats_start'] = result
        verdicts[row['name']] = verdict
    # the best row without labels (the positive and oracle controls and
    # Mix-and-Match use them)
    best = {}
    for _, key in columns:
        scored = [(_value(r, key), r['name']) for r in rows
                  if r['control'] not in LABELLED_CONTROLS
                  and not r.get('prior_is_labels')
                  and _value(r, key) is not None]
        if scored:  # a tie goes to the first row of the table
            best[key] = max(scored, key=lambda vn: vn[0])[1]
    return {'min_headroom': MIN_HEADROOM, 'headroom': headroom,
            'linear_probe_verdicts': verdicts, 'best': best}


def _num(value: Any, digits: int = 2) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def _pm(stats: dict | None) -> str:
    if stats is None:
        return '-'
    if len(stats.get('runs', [])) < 2:
        return f'{stats["mean"]:.2f}'
    return f'{stats["mean"]:.2f} ± {stats["std"]:.2f}'


def _probe(row: dict) -> str:
    """Linear probe: mean +- std over the pretraining seeds (their count)."""
    if row['linear_probe'] is None:
        return '-'
    seeds = len(row['linear_probe_seeds'])
    if seeds < 2:
        return f'{row["linear_probe"]:.2f}'
    return (f'{row["linear_probe"]:.2f} ± {row["linear_probe_std"]:.2f} '
            f'({seeds})')


def render_controls(result: dict) -> list[str]:
    """The headroom table and the methods' verdicts."""
    data = result.get('controls') or {}
    columns = result['protocols']
    titles = {r['name']: r['title'] for r in result['rows']}
    lines = ['## Controls', '',
             'Headroom = positive control (the evaluation segmentor trained '
             'on the train labels, same budget) minus random init, in '
             f'points; a protocol with less than {data["min_headroom"]:g} '
             'cannot separate methods. In brackets: the positive control '
             'minus random init with the train images\' batch-norm '
             'statistics (no gradient), the part of the headroom that only '
             'learned weights can fill; under '
             f'{data["min_headroom"]:g} the protocol cannot separate learned '
             'weights from those statistics.', '',
             '| features | ' + ' | '.join(t for t, _ in columns) + ' |',
             '|' + '---|' * (len(columns) + 1)]
    for features, cells in data['headroom'].items():
        lines.append(f'| {features} | ' + ' | '.join(
            '-' if key not in cells else
            f'{cells[key]["headroom"]:.2f}' +
            ('' if cells[key]['separates'] else ' (cannot separate)') +
            (f' ({cells[key]["over_bn_stats"]:.2f}' +
             ('' if cells[key]['separates_over_bn_stats']
              else ', cannot separate') + ')'
             if 'over_bn_stats' in cells[key] else '')
            for _, key in columns) + ' |')
    lines += ['', 'Linear probe over the pretraining seeds '
              f'{" ".join(map(str, result["options"]["pretrain_seeds"]))}: '
              'a method beats random init (or random init with the train '
              "images' batch-norm statistics, or its negative control: the "
              "same pretraining on another image's prior) only when the gap "
              'exceeds twice the larger std. The last column asks the '
              'regime, not the method: does the same pretraining on an '
              "oracle prior (the ground truth's) beat it on another "
              "image's? Where it does not, no prior could show its worth "
              'here and a method level with its negative control is not '
              'evidence against the method (a method whose prior is the '
              'labels, marked *, is its own oracle).', '',
              '| method | gap to random init | beats random init '
              '| gap to random init + BN statistics | beats it '
              '| gap to negative control | beats negative control '
              '| oracle prior minus negative control |',
              '|---|---|---|---|---|---|---|---|']
    rows = {r['name']: r for r in result['rows']}
    for name, verdict in data['linear_probe_verdicts'].items():
        cells = []
        for other in ('random', 'bn_stats', 'negative'):
            gap = verdict.get(f'gap_to_{other}')
            cells += (['-', '-'] if gap is None else
                      [f'{gap:+.2f}',
                       'yes' if verdict[f'beats_{other}'] else 'no'])
        gap = verdict.get('oracle_gap_to_negative')
        cells.append('-' if gap is None else f'{gap:+.2f} (' + (
            'separates' if verdict['oracle_beats_negative'] else
            'cannot separate') + ')' + ('*' if rows[name].get(
                'prior_is_labels') else ''))
        lines.append(f'| {titles[name]} | ' + ' | '.join(cells) + ' |')
    started = [(n, v) for n, v in data['linear_probe_verdicts'].items()
               if 'start' in v]
    if started:
        lines.append('')
    for name, verdict in started:
        lines.append(
            f'{titles[name]} against the weights it starts from '
            f'({titles[verdict["start"]]}): {verdict["gap_to_start"]:+.2f}, '
            + ('beyond' if verdict['beats_start'] else 'within')
            + ' twice the larger std.')
    best = data.get('best') or {}
    if best:
        lines += ['', 'Best row without labels (positive and oracle controls '
                  'and methods trained on labels aside; '
                  'bold in the table), per protocol: ' + '; '.join(
                      f'{title}: {titles[best[key]]}, '
                      f'{rows[best[key]]["features"]} '
                      f'({_value(rows[best[key]], key):.2f})'
                      for title, key in columns if key in best) + '.']
    return lines


def _minutes(seconds: float | None) -> str:
    return '-' if seconds is None else f'{seconds / 60:.1f}'


def render(result: dict, notes: str = '') -> str:
    """The Markdown page."""
    opts = result['options']
    priors = result['priors']
    sal, aux, bsds = priors['saliency'], priors['aux_labels'], priors['bsds']
    quality = {
        'mask_contrast': ('mask PmIoU ' + _num(_get(sal, 'mask_PmIoU'))
                         if sal else '-'),
        'aux_contrast': ('PmIoU ' + _num(_get(aux, 'PmIoU')) +
                         f' (K={_get(aux, "K")})' if aux else '-'),
        'hier_grouping': ('BSDS ODS ' + _num(_get(bsds, 'ODS'), 3)
                          if bsds else '-'),
    }
    lines = [
        '# Benchmark: every method against random init and its controls '
        f'({result["suite"]})', '',
        '<!-- written by tools/benchmark.py; the notes come from the '
        '<page>_notes.md beside this page -->', '',
        f'Hardware: {result["hardware"]}. Date: {result["date"]}. ' +
        (f'Its stages ran on {len(result["machines"])} machines '
         '(results archive; see the stage records). '
         if len(result.get('machines', ())) > 1 else '') +
        f'Scale {opts["scale"]}: each pretraining '
        f'{opts["pretrain_minutes"] * opts["scale"]:g} min of the reference '
        f'machine (2 CPU cores), fine-tuning {opts["finetune_iters"]} '
        f'iterations x {opts["scale"]:g}, 10 % splits (seeds) '
        f'{" ".join(map(str, opts["finetune_seeds"]))}, K-means seeds '
        f'{" ".join(map(str, opts["kmeans_seeds"]))}. '
        f'Data: {result["data"]}. All numbers in % (val mIoU' +
        ('; DAVIS J and F mean over sequences).'
         if ['DAVIS J', 'davis_J'] in result['protocols'] else ').'),
        '',
    ]
    floor = priors.get('floor')
    if floor and 'label' in floor:  # no background class: the commonest
        lines += [
            f'**Floor**: predicting the commonest val class (class '
            f'{floor["label"]}, {floor["fraction"] * 100:.1f} % of the val '
            f'pixels) everywhere scores {floor["mIoU"]:.2f} val mIoU.', '']
    elif floor:
        lines += [
            f'**Floor**: predicting background everywhere scores '
            f'{floor["mIoU"]:.2f} val mIoU ({floor["fraction"] * 100:.1f} % '
            f'of the labelled val pixels are background, '
            f'{floor["classes"]} classes occur). A linear-probe, K-means or '
            'fine-tuning number at this value is a model that has learned '
            'nothing about the classes.', ''
        ]
    kmeans = [k for _, k in result['protocols'] if k.startswith('kmeans_')]
    suffix = dict(zip(kmeans, (' (Hungarian)', ' (majority)')),
                  retrieval=' K=15')
    columns = [(title + suffix.get(key, ''), key)
               for title, key in result['protocols']]
    lines += [
        '| method | backbone (frozen features) | prior | prior quality '
        '| pretrain iters (min) | ' + ' | '.join(t for t, _ in columns) +
        ' |', '|' + '---|' * (5 + len(columns)),
    ]
    best = (result.get('controls') or {}).get('best') or {}
    for row in result['rows']:
        iters = (f'{row["pretrain_iters"]} '
                 f'({_minutes(row["pretrain_seconds"])})'
                 if row['pretrain_iters'] else '-')
        cells = [_probe(row) if key == 'linear_probe' else
                 _pm(row[key]) if key.startswith(('kmeans', 'finetune')) else
                 _num(row[key]) for _, key in columns]
        cells = [f'**{c}**' if best.get(key) == row['name'] else c
                 for c, (_, key) in zip(cells, columns)]
        lines.append('| ' + ' | '.join([
            row['title'], row['features'], row['prior'],
            quality.get(row['name'], '-'), iters, *cells]) + ' |')
    if bsds:
        lines += [
            '', f'Region trees on BSDS500 test (first {bsds["images"]} '
            f'images, {bsds["thresholds"]} thresholds): ODS '
            f'{bsds["ODS"]:.3f}, OIS {bsds["OIS"]:.3f}, AP {bsds["AP"]:.3f}, '
            f'covering {bsds["covering_ODS"]:.3f} / '
            f'{bsds["covering_OIS"]:.3f}; gPb-OWT-UCM (published, all 200): '
            f'{bsds["reference"]["ODS"]:.3f} / {bsds["reference"]["OIS"]:.3f}'
            f' / {bsds["reference"]["AP"]:.3f}.'
        ]
    if result.get('picture'):
        lines += ['', f'![linear probe of every row]({result["picture"]})']
    lines += [''] + render_controls(result)
    if notes:
        lines += ['', notes.strip()]
    stages = result['stages']
    total = sum(s['wall_seconds'] or 0 for s in stages.values())
    lines += ['', '## Wall time per stage', '',
              f'Total {total / 60:.0f} min.', '',
              '| stage | kind | status | minutes |', '|---|---|---|---|']
    for name, s in stages.items():
        lines.append(f'| {name} | {s["kind"]} | {s["status"]} | '
                     f'{_minutes(s["wall_seconds"])} |')
    lines += ['', '## Commands', '',
              'Run from the repository root; `tools/benchmark.py` runs '
              'exactly these.', '', '```bash']
    lines += [s['command'] for s in stages.values()]
    lines += ['```', '']
    return '\n'.join(lines)


def write_table(result: dict, md_path: str, json_path: str,
                notes: str = '') -> None:
    """The JSON, the linear probe's picture beside the page (when a row has
    one) and the Markdown page, which shows the picture."""
    write_json(json_path, result)
    picture = osp.splitext(md_path)[0] + '_linear_probe.png'
    if any(r['linear_probe'] is not None for r in result['rows']):
        plot_linear_probe(result['rows'], picture,
                          f'{result["suite"]}: linear probe, every row')
        result = dict(result, picture=osp.basename(picture))
    with atomic_path(md_path) as tmp:
        with open(tmp, 'w') as f:
            f.write(render(result, notes))
