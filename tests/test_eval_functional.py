"""Hand-computed cases for the matching, PmIoU and DAVIS measures."""
import numpy as np
import pytest

from mmssl_seg.evaluation.functional import (
    PmIoUAccumulator,
    boundary_f_measure,
    confusion_matrix,
    hungarian_mapping,
    majority_mapping,
    mapped_miou,
    pmiou_from_confusion,
    region_similarity,
)
from mmssl_seg.evaluation.functional.davis import mask_boundary


def test_confusion_counts_ignores_void_and_keeps_ignored_predictions():
    pred = np.array([0, 0, 1, 1, 255, 2])
    gt = np.array([0, 1, 1, 255, 1, 0])
    c = confusion_matrix(pred, gt, num_pred=2, num_classes=2)
    # rows: pred 0, pred 1, ignored (255 and the out-of-range 2)
    assert c.tolist() == [[1, 1], [0, 1], [1, 1]]


def test_hungarian_is_one_to_one_and_beats_greedy():
    # Majority sends both clusters to class 0. One-to-one assignments:
    # c0->0, c1->1 agrees on 6 + 1 = 7 pixels; c0->1, c1->0 on 3 + 5 = 8.
    conf = np.array([[6, 3], [5, 1], [0, 0]])
    assert hungarian_mapping(conf).tolist() == [1, 0]
    assert majority_mapping(conf).tolist() == [0, 0]


def test_hungarian_leaves_extra_clusters_unmatched():
    conf = np.array([[5, 0], [0, 5], [1, 1], [0, 0]])
    mapping = hungarian_mapping(conf)
    assert mapping.tolist() == [0, 1, -1]


def test_mapped_miou_by_hand():
    # 3 clusters, 2 classes. Majority: c0->0, c1->1, c2->1.
    conf = np.array([[4, 1], [0, 3], [1, 2], [2, 0]])  # last row: ignored
    miou, iou = mapped_miou(conf, majority_mapping(conf))
    # class 0: I = 4, pred = 4 + 1, gt = 4 + 0 + 1 + 2 = 7, U = 5 + 7 - 4 = 8
    # class 1: I = 3 + 2 = 5, pred = 3 + 3 = 6, gt = 1 + 3 + 2 + 0 = 6,
    #          U = 6 + 6 - 5 = 7
    assert iou == pytest.approx([4 / 8, 5 / 7])
    assert miou == pytest.approx(100 * (4 / 8 + 5 / 7) / 2)


def test_mapped_miou_unmatched_cluster_counts_against_its_pixels():
    conf = np.array([[5, 0], [0, 5], [0, 5], [0, 0]])
    _, iou = mapped_miou(conf, hungarian_mapping(conf))
    # one of clusters 1/2 is unmatched: class 1 has I = 5, U = 5 + 10 - 5
    assert iou[1] == pytest.approx(0.5)


def test_pmiou_by_hand_with_k_different_from_m():
    # K = 3 segments, M = 2 classes, over 10 pixels
    source = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 255])
    gt = np.array([0, 0, 1, 1, 1, 0, 1, 1, 1, 1])
    acc = PmIoUAccumulator(num_segments=3, num_classes=2)
    acc.update(source, gt)
    # G0 = {0,1,5} (3 px), G1 = 7 px
    # S0 = {0,1,2}: IoU with G0 = 2/4, with G1 = 1/9 -> 0.5
    # S1 = {3,4}:   IoU with G1 = 2/7                -> 2/7
    # S2 = {5..8}:  IoU with G0 = 1/6, with G1 = 3/8 -> 3/8
    expected = (0.5 + 2 / 7 + 3 / 8) / max(3, 2)
    assert acc.compute() == pytest.approx(100 * expected)


def test_pmiou_perfect_and_more_classes_than_segments():
    gt = np.array([[0, 0, 1, 1], [2, 2, 2, 2]])
    assert pmiou_from_confusion(confusion_matrix(gt, gt, 3, 3)) == \
        pytest.approx(100)
    # a 2-segment source against 3 classes: divided by max(K, M) = 3
    source = (gt > 0).astype(int)
    # S0 = G0 exactly (1); S1 = G1 + G2: best IoU = 4/6
    acc = PmIoUAccumulator(2, 3)
    acc.update(source, gt)
    assert acc.compute() == pytest.approx(100 * (1 + 4 / 6) / 3)


def test_pmiou_empty_segments_count_only_when_nominal():
    gt = np.array([0, 1])
    acc = PmIoUAccumulator(num_segments=4, num_classes=2)
    acc.update(np.array([0, 1]), gt)
    assert acc.compute(count_empty=True) == pytest.approx(100 * 2 / 4)
    assert acc.compute(count_empty=False) == pytest.approx(100)


def test_region_similarity():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    assert region_similarity(a, b) == 1.0
    a[:2] = True  # 8 px
    b[1:3] = True  # 8 px, overlap 4
    assert region_similarity(a, b) == pytest.approx(4 / 12)


def test_mask_boundary_is_seg2bmap_on_a_square():
    m = np.zeros((6, 6), bool)
    m[1:5, 1:5] = True
    # seg2bmap: a pixel whose right, lower or lower-right neighbour differs;
    # the line sits on the background above/left of the square and on the
    # square's own right and bottom pixels
    expected = np.array([[1, 1, 1, 1, 1, 0],
                         [1, 0, 0, 0, 1, 0],
                         [1, 0, 0, 0, 1, 0],
                         [1, 0, 0, 0, 1, 0],
                         [1, 1, 1, 1, 1, 0],
                         [0, 0, 0, 0, 0, 0]], bool)
    np.testing.assert_array_equal(mask_boundary(m), expected)
    assert not mask_boundary(np.ones((3, 3), bool)).any()  # no border line
    edge = np.zeros((3, 3), bool)
    edge[:2, 2] = True  # the last column compares downwards only
    np.testing.assert_array_equal(mask_boundary(edge),
                                  [[0, 1, 0], [0, 1, 1], [0, 0, 0]])


def reference_boundary(seg: np.ndarray) -> np.ndarray:
    """seg2bmap as the official code states it, pixel by pixel."""
    h, w = seg.shape
    out = np.zeros((h, w), bool)
    for y in range(h):
        for x in range(w):
            if y < h - 1 and x < w - 1:
                near = [(y, x + 1), (y + 1, x), (y + 1, x + 1)]
            elif y == h - 1 and x < w - 1:
                near = [(y, x + 1)]
            elif x == w - 1 and y < h - 1:
                near = [(y + 1, x)]
            else:
                near = []
            out[y, x] = any(seg[n] != seg[y, x] for n in near)
    return out


def reference_f(pred: np.ndarray, gt: np.ndarray,
                bound_th: float = 0.008) -> float:
    """The official f_measure: boundary pixels matched within a Euclidean
    radius ceil(bound_th x diagonal) (skimage's disk), by a k-d tree."""
    from scipy.spatial import cKDTree
    radius = bound_th if bound_th >= 1 else np.ceil(
        bound_th * np.linalg.norm(pred.shape))
    pb, gb = reference_boundary(pred), reference_boundary(gt)
    n_p, n_g = pb.sum(), gb.sum()
    if n_p == 0 or n_g == 0:
        return 1.0 if n_p == n_g else 0.0

    def matched(a, b):
        dist, _ = cKDTree(np.argwhere(b)).query(np.argwhere(a))
        return (dist <= radius + 1e-9).sum()

    precision, recall = matched(pb, gb) / n_p, matched(gb, pb) / n_g
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def test_boundary_f_by_hand():
    gt = np.zeros((20, 20), bool)
    gt[5:15, 5:15] = True
    assert boundary_f_measure(gt, gt, bound_th=1) == 1.0
    shifted = np.roll(gt, 1, axis=1)  # within 1 px tolerance everywhere
    assert boundary_f_measure(shifted, gt, bound_th=1) == 1.0
    far = np.roll(gt, 4, axis=1)
    assert 0 < boundary_f_measure(far, gt, bound_th=1) < 1
    assert boundary_f_measure(far, gt, bound_th=1) == pytest.approx(
        reference_f(far, gt, 1))
    assert boundary_f_measure(np.zeros_like(gt), gt) == 0.0
    assert boundary_f_measure(np.zeros_like(gt), np.zeros_like(gt)) == 1.0


def test_boundary_tolerance_follows_the_diagonal():
    gt = np.zeros((300, 400), bool)  # diagonal 500 -> 0.008 * 500 = 4 px
    gt[100:200, 100:200] = True
    assert boundary_f_measure(np.roll(gt, 4, axis=1), gt) == 1.0
    assert boundary_f_measure(np.roll(gt, 6, axis=1), gt) < 1.0


def test_boundary_f_equals_the_official_definition_on_real_davis_frames():
    """Eroded, dilated and shifted real DAVIS masks (half resolution, so the
    pixel-by-pixel reference stays fast): F as the official code defines
    it, to float precision."""
    import glob
    import os.path as osp

    import cv2

    from tests.conftest import DATA_ROOT
    root = osp.join(DATA_ROOT, 'davis2016', 'Annotations', '480p')
    if not osp.isdir(root):
        pytest.skip(f'real data not found: {root}')
    kernel = np.ones((7, 7), np.uint8)
    values = []
    for seq in ('blackswan', 'car-shadow', 'motocross-jump'):
        frames = sorted(glob.glob(osp.join(root, seq, '*.png')))
        for path in frames[5:30:12]:
            gt = cv2.imread(path, cv2.IMREAD_GRAYSCALE)[::2, ::2] > 128
            u8 = gt.astype(np.uint8)
            for pred in (cv2.erode(u8, kernel) > 0, cv2.dilate(u8, kernel) > 0,
                         np.roll(gt, (3, 9), axis=(0, 1)),
                         np.roll(cv2.erode(u8, kernel) > 0, 5, axis=1)):
                ours = boundary_f_measure(pred, gt)
                assert ours == pytest.approx(reference_f(pred, gt), abs=1e-12)
                values.append(ours)
    assert len(values) == 36 and 0.05 < min(values) < max(values) < 1


def test_constant_prediction_miou_matches_mmseg_on_real_labels():
    """The all-background floor equals MMSeg's IoUMetric fed a constant
    prediction, on the first 20 real voc12_mini val label maps."""
    import glob
    import os.path as osp

    import torch
    from mmseg.evaluation.metrics import IoUMetric
    from PIL import Image

    from mmssl_seg.evaluation.functional import constant_prediction_miou

    from .conftest import VOC12_MINI, needs_voc12_mini
    needs_voc12_mini()
    files = sorted(glob.glob(osp.join(VOC12_MINI, 'SegmentationClass',
                                      '*.png')))[:20]
    for label in (0, 15):  # background, person
        areas = []
        for path in files:
            gt = torch.from_numpy(np.array(Image.open(path)).astype(np.int64))
            areas.append(IoUMetric.intersect_and_union(
                torch.full_like(gt, label), gt, 21, 255))
        totals = [sum(a[i] for a in areas) for i in range(4)]
        ref = IoUMetric.total_area_to_metrics(*totals)['IoU']
        got = constant_prediction_miou(files, 21, label=label)
        assert got['images'] == 20
        assert got['mIoU'] == pytest.approx(np.nanmean(ref) * 100)
        assert got['classes'] == int((~np.isnan(ref)).sum())


def test_constant_prediction_miou_rejects_bad_labels(tmp_path):
    from PIL import Image

    from mmssl_seg.evaluation.functional import constant_prediction_miou
    bad = tmp_path / 'bad.png'
    Image.fromarray(np.full((4, 4), 30, np.uint8)).save(bad)
    with pytest.raises(ValueError, match='bad.png'):
        constant_prediction_miou([str(bad)], 21)
    empty = tmp_path / 'empty.png'
    Image.fromarray(np.full((4, 4), 255, np.uint8)).save(empty)
    with pytest.raises(ValueError, match='no labelled pixels'):
        constant_prediction_miou([str(empty)], 21)
