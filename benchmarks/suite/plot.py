"""The benchmark's picture: every row's linear probe, seeds as dots, mean
+- std as a bar, controls coloured apart, so that "above its negative
control" and "within the headroom" can be seen at a glance."""
from __future__ import annotations

from typing import Sequence

from mmssl_seg.utils.io import atomic_path

#: bar colour per row kind
COLOURS = {'random': '#9e9e9e', 'bn_stats': '#616161',
           'supervised': '#2e7d32', 'shuffled_prior': '#c62828',
           'oracle_prior': '#f9a825', 'method': '#1565c0'}


def _kind(row: dict) -> str:
    if row['control']:
        return row['control']
    return 'method' if row['pretrain_iters'] else 'random'


def plot_linear_probe(rows: Sequence[dict], path: str,
                      title: str = '') -> list[tuple[str, float, float]]:
    """Draw the rows that have a linear probe; return what was drawn as
    (label, mean, std) from top to bottom.

    Args:
        rows: The table's rows (``collect``): ``title``, ``features``,
            ``control``, ``pretrain_iters``, ``linear_probe``,
            ``linear_probe_std``, ``linear_probe_seeds``.
        path: The PNG to write (atomically).
        title: The figure's title.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    drawn = [r for r in rows if r['linear_probe'] is not None]
    labels = [f'{r["title"]}\n{r["features"]}' for r in drawn]
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(drawn) + 1.8))
    for y, row in enumerate(drawn):
        ax.barh(y, row['linear_probe'], xerr=row['linear_probe_std'],
                color=COLOURS[_kind(row)], alpha=0.8, capsize=3)
        seeds = list(row['linear_probe_seeds'].values())
        ax.scatter(seeds, [y] * len(seeds), color='black', s=10, zorder=3)
    ax.set_yticks(range(len(drawn)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel('linear probe, val mIoU (%): mean +- std, dots = seeds')
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.8)
               for c in COLOURS.values()]
    ax.legend(handles, ['random init', 'random init + data BN statistics',
                        'supervised (positive control)',
                        'shuffled prior (negative control)',
                        'oracle prior (ground truth, control)', 'method'],
              fontsize=7, loc='upper center', ncol=2,
              bbox_to_anchor=(0.5, -0.5 / len(drawn) - 0.12))
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format='png')
    plt.close(fig)
    return [(label, row['linear_probe'], row['linear_probe_std'])
            for label, row in zip(labels, drawn)]
