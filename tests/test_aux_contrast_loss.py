"""The auxiliary-label contrast loss (eqs. 1-2) against a reference written
out pair by pair, in chunks and densely, and its degenerate inputs."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mmssl_seg.models.losses.aux_contrast_loss import (
    AuxLabelContrastLoss,
    PixelMeta,
)


def _meta(n, generator, labels=3, superpixels=3, images=2, offset=0,
          bank=False):
    return PixelMeta(
        label=torch.randint(-1, labels, (n, ), generator=generator),
        superpixel=torch.randint(0, superpixels, (n, ), generator=generator),
        image=torch.randint(0, images, (n, ), generator=generator),
        pixel=(torch.full((n, ), -1) if bank else
               torch.randperm(n + 4, generator=generator)[:n] + offset))


def _reference(a, am, c, cm, tau=0.07, lambdas=(10.0, 4.0, 1.0)):
    """Eq. 2 over eq. 1, one pair at a time."""
    total, weight = 0.0, 0.0
    for i in range(len(a)):
        if am.label[i] < 0:
            continue
        others = [j for j in range(len(c))
                  if cm.label[j] >= 0 and cm.pixel[j] != am.pixel[i]]
        pos = [j for j in others if cm.label[j] == am.label[i]]
        neg = [j for j in others if cm.label[j] != am.label[i]]
        if not pos or not neg:
            continue
        neg_sum = sum(torch.exp(a[i] @ c[j] / tau) for j in neg)
        for j in pos:
            e = torch.exp(a[i] @ c[j] / tau)
            pair = -torch.log(e / (e + neg_sum))
            if cm.image[j] == am.image[i]:
                lam = lambdas[0] if cm.superpixel[j] == am.superpixel[i] \
                    else lambdas[1]
            else:
                lam = lambdas[2]
            total = total + lam * pair
            weight += lam
    return total / weight


@pytest.mark.parametrize('chunk', [0, 1, 5, 64, None])  # 0: dense
@pytest.mark.parametrize('lambdas', [(10.0, 4.0, 1.0), (1.0, 1.0, 1.0)])
def test_loss_matches_pairwise_reference(chunk, lambdas):
    g = torch.Generator().manual_seed(0)
    a0 = F.normalize(torch.randn(12, 8, generator=g, dtype=torch.float64),
                     dim=1)
    c0 = F.normalize(torch.randn(20, 8, generator=g, dtype=torch.float64),
                     dim=1)
    am = _meta(12, g)
    cm = _meta(20, g)
    cm.pixel[:4] = am.pixel[:4]  # four candidates are anchor pixels

    a1, c1 = a0.clone().requires_grad_(), c0.clone().requires_grad_()
    a2, c2 = a0.clone().requires_grad_(), c0.clone().requires_grad_()
    loss, stats = AuxLabelContrastLoss(weights=lambdas, chunk_size=chunk)(
        a1, am, c1, cm)
    ref = _reference(a2, am, c2, cm, lambdas=lambdas)
    loss.backward()
    ref.backward()
    torch.testing.assert_close(loss, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a1.grad, a2.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(c1.grad, c2.grad, rtol=1e-5, atol=1e-5)
    assert min(stats['pairs_p0'], stats['pairs_p1'], stats['pairs_p2']) > 0


def _reference_counts(am, cm):
    """Positive pairs per level (P0 same superpixel, P1 same image, P2
    across images), labelled anchors without a positive, labelled anchors
    with a positive but no negative: counted pair by pair."""
    pairs, no_pos, no_neg = [0, 0, 0], 0, 0
    for i in range(len(am.label)):
        if am.label[i] < 0:
            continue
        others = [j for j in range(len(cm.label))
                  if am.label[i] >= 0 and cm.label[j] >= 0
                  and cm.pixel[j] != am.pixel[i]]
        pos = [j for j in others if cm.label[j] == am.label[i]]
        neg = [j for j in others if cm.label[j] != am.label[i]]
        if not pos:
            no_pos += 1
            continue
        if not neg:
            no_neg += 1
            continue
        for j in pos:
            if cm.image[j] != am.image[i]:
                pairs[2] += 1
            elif cm.superpixel[j] == am.superpixel[i]:
                pairs[0] += 1
            else:
                pairs[1] += 1
    return pairs, no_pos, no_neg


def test_memory_bank_candidates_take_no_gradient_and_count():
    from mmssl_seg.models.utils.queue import FeatureQueue
    g = torch.Generator().manual_seed(1)
    a = F.normalize(torch.randn(6, 4, generator=g, dtype=torch.float64),
                    dim=1).requires_grad_()
    am = _meta(6, g)
    fields = {'feats': ((4, ), torch.float64), 'labels': ((), torch.long),
              'superpixels': ((), torch.long), 'images': ((), torch.long)}
    bank = FeatureQueue(10, fields)
    bm = _meta(10, g, bank=True, images=5)
    bank.push(feats=F.normalize(torch.randn(10, 4, generator=g,
                                            dtype=torch.float64), dim=1),
              labels=bm.label, superpixels=bm.superpixel, images=bm.image)
    # the batch's momentum features (no gradient) and the bank's rows, as
    # AuxLabelContrast joins them
    batch = F.normalize(torch.randn(5, 4, generator=g, dtype=torch.float64),
                        dim=1)
    cm5 = _meta(5, g)
    cm = PixelMeta(*(torch.cat([x, y]) for x, y in zip(cm5, bm)))
    candidates = torch.cat([batch, bank.get('feats')])
    loss, stats = AuxLabelContrastLoss(chunk_size=2)(a, am, candidates, cm)
    loss.backward()
    assert bank.feats.grad is None and not candidates.requires_grad
    ref_a = a.detach().clone().requires_grad_()
    ref = _reference(ref_a, am, candidates, cm)
    ref.backward()
    torch.testing.assert_close(loss, ref)
    torch.testing.assert_close(a.grad, ref_a.grad)
    assert a.grad.abs().sum() > 0
    pairs, no_pos, no_neg = _reference_counts(am, cm)
    assert [int(stats[f'pairs_p{k}']) for k in range(3)] == pairs
    assert int(stats['anchors_without_positive']) == no_pos
    assert int(stats['anchors_without_negative']) == no_neg
    assert pairs[2] > 0  # the bank's rows are cross-image candidates


def test_anchors_without_positives_or_negatives_are_excluded():
    a = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
                    dim=1).requires_grad_()
    meta = PixelMeta(label=torch.tensor([0, 1, 2]),
                     superpixel=torch.zeros(3, dtype=torch.long),
                     image=torch.zeros(3, dtype=torch.long),
                     pixel=torch.arange(3))
    # candidates are the anchors themselves: nobody has a positive
    loss, stats = AuxLabelContrastLoss()(a, meta, a, meta)
    loss.backward()
    assert loss.item() == 0 and not a.grad.any()
    assert stats['anchors_without_positive'] == 3
    # one class only: nobody has a negative
    one = meta._replace(label=torch.zeros(3, dtype=torch.long),
                        pixel=torch.tensor([0, 1, 2]))
    cands = one._replace(pixel=torch.tensor([5, 6, 7]))
    a.grad = None
    loss, stats = AuxLabelContrastLoss()(a, one, a, cands)
    loss.backward()
    assert loss.item() == 0 and torch.isfinite(a.grad).all()
    assert not a.grad.any() and stats['anchors_without_negative'] == 3
    # all labels ignored
    ignored = meta._replace(label=torch.full((3, ), -1))
    loss, _ = AuxLabelContrastLoss()(a, ignored, a, ignored)
    assert loss.item() == 0


def test_one_positive_one_negative_by_hand():
    tau = 0.5
    a = torch.tensor([[1.0, 0.0]])
    c = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    am = PixelMeta(*(torch.tensor([v]) for v in (0, 0, 0, 9)))
    cm = PixelMeta(torch.tensor([0, 1]), torch.tensor([0, 0]),
                   torch.tensor([1, 1]), torch.tensor([1, 2]))
    loss, stats = AuxLabelContrastLoss(temperature=tau)(a, am, c, cm)
    expected = -math.log(math.exp(2) / (math.exp(2) + math.exp(0)))
    assert loss.item() == pytest.approx(expected)
    assert stats['pairs_p2'] == 1 and stats['pairs_p0'] == 0


@pytest.mark.parametrize('chunk', [0, 4])
def test_mixed_precision_features_give_the_float32_loss(chunk):
    """Under autocast the anchors and batch keys are half precision and the
    bank rows float32 (a mixed-precision step crashed on the mix): the loss
    runs in float32 on the rounded features, gradients reach the anchors in
    their own dtype."""
    g = torch.Generator().manual_seed(3)
    a = F.normalize(torch.randn(10, 8, generator=g), dim=1)
    c = F.normalize(torch.randn(16, 8, generator=g), dim=1)
    am, cm = _meta(10, g), _meta(16, g, offset=100)
    half = a.to(torch.bfloat16).requires_grad_()
    mixed = torch.cat([c[:6].to(torch.bfloat16).float(), c[6:]])
    loss, _ = AuxLabelContrastLoss(chunk_size=chunk)(half, am, mixed, cm)
    loss.backward()
    assert loss.dtype == torch.float32 and half.grad.dtype == torch.bfloat16
    full = half.detach().float().requires_grad_()
    ref, _ = AuxLabelContrastLoss(chunk_size=chunk)(full, am, mixed, cm)
    ref.backward()
    torch.testing.assert_close(loss, ref)
    torch.testing.assert_close(half.grad, full.grad.to(torch.bfloat16))
    with torch.autocast('cpu', dtype=torch.bfloat16):  # as a step runs it
        auto, _ = AuxLabelContrastLoss(chunk_size=chunk)(
            half, am, torch.cat([c[:6].to(torch.bfloat16), c[6:]]), cm)
    torch.testing.assert_close(auto, ref)
