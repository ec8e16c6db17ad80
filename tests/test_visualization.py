import cv2
import numpy as np
import pytest

from mmssl_seg.visualization import colorize, save_panel_grid


def test_colorize_paints_ignore_white_and_cycles_palette():
    label = np.array([[0, 1], [2, 255]])
    out = colorize(label, [[10, 20, 30], [40, 50, 60]])
    assert out[0, 0].tolist() == [10, 20, 30]
    assert out[1, 0].tolist() == [10, 20, 30]  # 2 % 2 == 0
    assert out[1, 1].tolist() == [255, 255, 255]


def test_panel_grid_size_and_legend(tmp_path):
    tile = np.zeros((40, 60, 3), np.uint8)
    path = str(tmp_path / 'grid.png')
    save_panel_grid([[tile, tile], [tile, tile]], ['a', 'b'], path, tile=40,
                    gap=4)
    grid = cv2.imread(path)
    # title bar 18 + gap + 2 rows of 40 with a gap between; 2 tiles of 60
    assert grid.shape == (18 + 4 + 40 + 4 + 40, 60 + 4 + 60, 3)
    save_panel_grid([[tile, tile]], ['a', 'b'], path, tile=40,
                    legend=(['x', 'y'], [[255, 0, 0], [0, 255, 0]]))
    with_legend = cv2.imread(path)
    assert with_legend.shape[0] == 18 + 4 + 40 + 4 + 18
    legend_row = with_legend[-18:].reshape(-1, 3).tolist()
    assert [0, 0, 255] in legend_row and [0, 255, 0] in legend_row  # BGR


def test_panel_grid_rejects_ragged_rows(tmp_path):
    tile = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match='one tile per title'):
        save_panel_grid([[tile]], ['a', 'b'], str(tmp_path / 'x.png'))
