"""Side-by-side picture grids: images, label maps and feature maps as one
PNG."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from mmssl_seg.utils.io import atomic_path

IGNORE_COLOR = (255, 255, 255)


def colorize(label: np.ndarray, palette: Sequence[Sequence[int]],
             ignore_index: int = 255) -> np.ndarray:
    """RGB picture of a label map; ``ignore_index`` is painted white and
    labels beyond the palette cycle through it."""
    palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    out = palette[np.asarray(label, dtype=np.int64) % len(palette)]
    out[label == ignore_index] = IGNORE_COLOR
    return out


def _title_bar(text: str, width: int, lines: int = 1,
               height: int = 18) -> np.ndarray:
    """``text`` (``\\n`` separates lines) on ``lines`` lines of ``height``
    pixels, each cut to what fits ``width``."""
    bar = np.full((height * lines, width, 3), 255, np.uint8)
    for row, line in enumerate(text.split('\n')[:lines]):
        cv2.putText(bar, line[:max(1, width // 7)],
                    (3, height * (row + 1) - 5), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return bar


def _legend(names: Sequence[str], palette: Sequence[Sequence[int]],
            width: int, height: int = 18) -> np.ndarray:
    """One line of colour swatches with class names, wrapped to ``width``."""
    lines, line, x = [], np.full((height, width, 3), 255, np.uint8), 3
    for name, color in zip(names, palette):
        needed = 14 + 7 * len(name) + 10
        if x + needed > width and x > 3:
            lines.append(line)
            line, x = np.full((height, width, 3), 255, np.uint8), 3
        line[4:height - 4, x:x + 10] = color
        cv2.putText(line, name, (x + 14, height - 5), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4, (0, 0, 0), 1, cv2.LINE_AA)
        x += needed
    return np.concatenate(lines + [line], axis=0)


def save_panel_grid(rows: Sequence[Sequence[np.ndarray]],
                    titles: Sequence[str],
                    path: str,
                    tile: int = 160,
                    gap: int = 4,
                    legend: tuple[Sequence[str], Sequence[Sequence[int]]]
                    | None = None) -> None:
    """Write a grid of RGB tiles (one row per example) with column titles.

    Args:
        rows: Each row a list of HxWx3 uint8 RGB arrays (resized to ``tile``
            height, nearest-neighbour so label maps stay crisp).
        titles: One title per column (``\\n`` breaks a title's lines).
        path: Output PNG, written atomically.
        tile: Height of every tile in pixels.
        gap: White space between tiles.
        legend: Optional ``(class names, palette)`` drawn under the grid.
    """
    if not rows:
        raise ValueError('no rows to draw')
    if any(len(row) != len(titles) for row in rows):
        raise ValueError('every row needs one tile per title')
    widths = [
        max(int(round(tile * t.shape[1] / t.shape[0])) for t in column)
        for column in zip(*rows)
    ]
    lines = []
    lines_per_title = max(t.count('\n') + 1 for t in titles)
    header = [_title_bar(t, w, lines_per_title)
              for t, w in zip(titles, widths)]
    for row in [None, *rows]:
        cells = header if row is None else [
            cv2.resize(t, (w, tile), interpolation=cv2.INTER_NEAREST)
            for t, w in zip(row, widths)
        ]
        padded = []
        for cell in cells:
            padded.append(cell)
            padded.append(np.full((cell.shape[0], gap, 3), 255, np.uint8))
        lines.append(np.concatenate(padded[:-1], axis=1))
        lines.append(np.full((gap, lines[-1].shape[1], 3), 255, np.uint8))
    if legend is not None:
        lines.append(_legend(*legend, width=lines[0].shape[1]))
    else:
        lines.pop()
    grid = np.concatenate(lines, axis=0)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(tmp, grid[..., ::-1]):
            raise OSError(f'could not write {path}')
