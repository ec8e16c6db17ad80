"""MaskContrast's loss, prototypes, queue and momentum hook on small
tensors, against hand-written references."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmssl_seg.engine.hooks import MomentumUpdateHook
from mmssl_seg.models.losses import (
    MaskContrastLoss,
    SaliencyBCELoss,
    mask_prototypes,
    upsampled_pixels,
)
from mmssl_seg.models.utils import FeatureQueue


def reference_loss(query, masks, prototypes, valid, negatives, tau,
                   balance_images=False):
    """Eq. (3) pixel by pixel, written as plainly as possible."""
    per_image = {}
    for n in range(query.shape[0]):
        if not valid[n]:
            continue
        for y in range(query.shape[2]):
            for x in range(query.shape[3]):
                if not masks[n, y, x]:
                    continue
                z = query[n, :, y, x]
                keys = list(prototypes) + list(negatives)
                logits = torch.stack([z @ k for k in keys]) / tau
                loss = -(logits[n] - torch.logsumexp(logits, 0))
                per_image.setdefault(n, []).append(loss)
    if not per_image:
        return None
    if balance_images:  # the authors' E-Net weights: 1 / ln(1.02 + share)
        total = sum(len(v) for v in per_image.values())
        weighted, weights = 0.0, 0.0
        for v in per_image.values():
            w = 1.0 / math.log(1.02 + len(v) / total)
            weighted = weighted + w * torch.stack(v).sum()
            weights += w * len(v)
        return weighted / weights
    return torch.stack([x for v in per_image.values() for x in v]).mean()


def _inputs(seed=0, n=3, d=4, h=3, w=4, k=5):
    g = torch.Generator().manual_seed(seed)
    query = F.normalize(torch.randn(n, d, h, w, generator=g), dim=1)
    masks = torch.rand(n, h, w, generator=g) > 0.5
    masks[0, 0, 0] = True
    key = F.normalize(torch.randn(n, d, h, w, generator=g), dim=1)
    key_masks = torch.rand(n, h, w, generator=g) > 0.4
    negatives = F.normalize(torch.randn(k, d, generator=g), dim=1)
    return query, masks, key, key_masks, negatives


@pytest.mark.parametrize('balance_images', [False, True])
def test_loss_matches_reference_values_and_gradients(balance_images):
    query, masks, key, key_masks, negatives = _inputs()
    key_masks[2] = False  # image 2 has no key prototype: its pixels drop
    prototypes, valid = mask_prototypes(key, key_masks)
    q1 = query.clone().requires_grad_()
    loss, stats = MaskContrastLoss(0.5, balance_images)(q1, masks, prototypes,
                                                        valid, negatives)
    q2 = query.clone().requires_grad_()
    expected = reference_loss(q2, masks, prototypes, valid, negatives, 0.5,
                              balance_images)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    expected.backward()
    assert torch.allclose(q1.grad, q2.grad, atol=1e-6)
    assert stats['dropped'] == int(masks[2].sum())
    assert stats['pixels'] == int(masks[:2].sum())
    if balance_images:  # as the authors' code calls it: a weighted CE
        salient = masks[:2].permute(1, 2, 0)
        pixels = query[:2].permute(2, 3, 0, 1)[salient]
        targets = torch.arange(2).expand(*masks.shape[1:], 2)[salient]
        logits = pixels @ torch.cat([prototypes, negatives]).T / 0.5
        counts = torch.bincount(targets, minlength=len(logits[0]))
        w = 1 / torch.log(1.02 + counts / len(targets))
        torch.testing.assert_close(
            loss, F.cross_entropy(logits, targets, weight=w))


def test_prototype_is_the_normalised_masked_mean():
    _, _, key, key_masks, _ = _inputs(seed=1)
    prototypes, valid = mask_prototypes(key, key_masks)
    for n in range(key.shape[0]):
        mean = key[n][:, key_masks[n]].mean(dim=1)
        assert torch.allclose(prototypes[n], F.normalize(mean, dim=0),
                              atol=1e-6)
    assert valid.all()


def test_no_salient_pixel_gives_zero_loss_not_nan():
    query, masks, key, key_masks, negatives = _inputs(seed=2)
    q = query.clone().requires_grad_()
    prototypes, valid = mask_prototypes(key, key_masks)
    loss, stats = MaskContrastLoss()(q, torch.zeros_like(masks), prototypes,
                                     valid, negatives)
    assert loss.item() == 0.0 and stats['pixels'] == 0
    loss.backward()
    assert torch.all(q.grad == 0)
    # all-background key views: prototypes undefined, nothing contrasted
    prototypes, valid = mask_prototypes(key, torch.zeros_like(key_masks))
    assert not valid.any() and torch.all(prototypes == 0)
    loss, _ = MaskContrastLoss()(query, masks, prototypes, valid, negatives)
    assert loss.item() == 0.0


def test_saliency_bce_plain_and_balanced_by_hand():
    logits = torch.tensor([2.0, -1.0, 0.5, -3.0])
    target = torch.tensor([1.0, 0.0, 0.0, 0.0])
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction='none')
    assert SaliencyBCELoss()(logits, target).item() == pytest.approx(
        bce.mean().item())
    # 1 positive of 4: positives weigh 3/4, negatives 1/4 (HED style)
    weights = torch.tensor([0.75, 0.25, 0.25, 0.25])
    assert SaliencyBCELoss(balanced=True)(logits, target).item() == \
        pytest.approx((bce * weights).sum().item() / 4)


def test_queue_wraps_around_and_counts():
    queue = FeatureQueue(5, {'v': ((2, ), torch.float32),
                             'id': ((), torch.long)})
    assert queue.get('id').tolist() == [-1] * 5 and not queue.full
    for start in (0, 3):
        rows = torch.arange(start, start + 3)
        queue.push(v=rows[:, None].float().repeat(1, 2), id=rows)
    # 6 rows into 5 slots: row 5 overwrote slot 0
    assert queue.get('id').tolist() == [5, 1, 2, 3, 4]
    assert int(queue.ptr) == 1 and queue.full
    queue.push(v=torch.zeros(7, 2), id=torch.arange(10, 17))  # > size
    assert sorted(queue.get('id').tolist()) == [12, 13, 14, 15, 16]
    with pytest.raises(KeyError):
        queue.push(v=torch.zeros(1, 2))


def test_queue_state_survives_a_state_dict_round_trip():
    a = FeatureQueue(4, {'p': ((3, ), torch.float32)})
    a.push(p=torch.ones(3, 3))
    b = FeatureQueue(4, {'p': ((3, ), torch.float32)})
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.get('p'), b.get('p'))
    assert int(b.ptr) == 3 and int(b.count) == 3
    assert b.valid().tolist() == [True, True, True, False]


def test_momentum_hook_schedule_and_update():
    hook = MomentumUpdateHook()  # m is the model's: set in one place
    assert hook.momentum_at(0.99, 0, 100) == hook.momentum_at(
        0.99, 99, 100) == 0.99
    cosine = MomentumUpdateHook(end_momentum=1.0)
    assert cosine.momentum_at(0.99, 0, 101) == pytest.approx(0.99)
    assert cosine.momentum_at(0.99, 50, 101) == pytest.approx(0.995)
    assert cosine.momentum_at(0.99, 100, 101) == pytest.approx(1.0)

    from mmengine.model import ExponentialMovingAverage
    from torch import nn

    from mmssl_seg.models.algorithms.base import MomentumEncoderMixin

    class Algorithm(MomentumEncoderMixin, nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net
            self.build_momentum_encoder(0.99)

        @property
        def online_encoder(self):
            return self.net

    def step(algorithm, seed):
        """An optimizer step's change of the weights, and a forward that
        moves the batch-norm statistics."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in algorithm.net.parameters():
                p.add_(torch.randn(p.shape, generator=g))
            algorithm.net(torch.randn(2, 3, 5, 5, generator=g))

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.Conv2d(4, 2, 1))
    ours = Algorithm(net)
    reference = ExponentialMovingAverage(net, momentum=0.01)  # mmengine's

    class Runner:
        model = ours
        iter, max_iters = 0, 10

    for i in range(3):
        step(ours, i)
        hook.after_train_iter(Runner, i)
        reference.update_parameters(net)
    state = {k: v.clone() for k, v in ours.state_dict().items()}
    for i in range(3, 5):
        step(ours, i)
        hook.after_train_iter(Runner, i)
        reference.update_parameters(net)
    # bit for bit what mmengine's loop computes: the first update copies,
    # then lerp with weight 1 - m; buffers follow the online network
    for key, value in reference.state_dict().items():
        assert torch.equal(ours.momentum_encoder.state_dict()[key], value), key
    key = ours.momentum_encoder.module[0].weight
    assert not key.requires_grad and int(ours.momentum_encoder.steps) == 5
    # resume after 3 updates: the host's step mirror comes from the state
    torch.manual_seed(0)
    resumed = Algorithm(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4),
                                      nn.ReLU(), nn.Conv2d(4, 2, 1)))
    resumed.load_state_dict(state)
    assert resumed._ema_host_steps == 3
    Runner.model = resumed
    for i in range(3, 5):
        step(resumed, i)
        hook.after_train_iter(Runner, i)
    for key, value in ours.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key


def test_deeplabv3_head_is_the_authors_architecture():
    """Against the DeepLab-v3 head as the MaskContrast code builds it (ASPP
    branches, concatenation, 1x1 projection + dropout, 3x3 layer,
    classifier), written here with plain torch modules."""
    from torch import nn

    from mmssl_seg.models.heads import DeepLabV3Head

    def cbr(cin, cout, k, d=1):
        return nn.Sequential(nn.Conv2d(cin, cout, k, padding=0 if k == 1
                                       else d, dilation=d, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU())

    torch.manual_seed(0)
    head = DeepLabV3Head(in_channels=16, channels=8, num_classes=5,
                         dilations=(1, 2, 3, 4), dropout_ratio=0.0,
                         norm_cfg=dict(type='BN'))
    branches = nn.ModuleList([cbr(16, 8, 1), cbr(16, 8, 3, 2),
                              cbr(16, 8, 3, 3), cbr(16, 8, 3, 4)])
    pool = cbr(16, 8, 1)
    project, last = cbr(40, 8, 1), cbr(8, 8, 3, 1)
    classifier = nn.Conv2d(8, 5, 1)
    pairs = [(head.aspp_modules[i], branches[i]) for i in range(4)] + [
        (head.image_pool[1], pool), (head.project, project),
        (head.bottleneck, last)]
    for ours, theirs in pairs:
        theirs[0].weight.data.copy_(ours.conv.weight)
        for name in ('weight', 'bias', 'running_mean', 'running_var'):
            getattr(theirs[1], name).data.copy_(getattr(ours.bn, name))
    classifier.load_state_dict(head.conv_seg.state_dict())
    head.eval()
    x = torch.randn(2, 16, 9, 11)
    for m in (branches, pool, project, last):
        m.eval()
    pooled = F.interpolate(pool(F.adaptive_avg_pool2d(x, 1)), size=(9, 11),
                           mode='bilinear', align_corners=False)
    cat = torch.cat([b(x) for b in branches] + [pooled], 1)
    expected = classifier(last(project(cat)))
    torch.testing.assert_close(head([x, x, x, x]), expected)
    assert isinstance(head.project_dropout, nn.Dropout)
    assert head.project_dropout.p == 0.5


def _moco_v2_checkpoint(path: str) -> dict:
    """A file in MoCo v2's exact key layout (``main_moco.py`` of
    facebookresearch/moco): torchvision ResNet-50 encoders with the 2-layer
    MLP ``fc``, the queue and its pointer, epoch, arch and optimizer."""
    import torchvision
    torch.manual_seed(0)
    net = torchvision.models.resnet50()
    net.fc = torch.nn.Sequential(torch.nn.Linear(2048, 2048),
                                 torch.nn.ReLU(), torch.nn.Linear(2048, 128))
    state = {}
    for encoder in ('encoder_q', 'encoder_k'):
        for key, value in net.state_dict().items():
            state[f'module.{encoder}.{key}'] = value.clone()
    state['module.queue'] = F.normalize(torch.randn(128, 65536), dim=0)
    state['module.queue_ptr'] = torch.zeros(1, dtype=torch.long)
    torch.save({'epoch': 800, 'arch': 'resnet50', 'state_dict': state,
                'optimizer': {'state': {}, 'param_groups': [
                    {'lr': 0.0, 'momentum': 0.9, 'params': [0]}]}}, path)
    return net.state_dict()


def test_moco_v2_checkpoint_fills_the_paper_backbone(tmp_path, capsys):
    """The documented path, as typed in the README: every backbone weight of
    the paper config comes from a MoCo v2 file (no gap; its projection MLP,
    key encoder and queue left out by name), the pretrained-init check
    passes; the deep-stem variant refuses the same file with the fix
    named."""
    import importlib.util
    import os.path as osp

    from mmengine.config import Config

    from mmssl_seg.checkpoint.converter import extract_pretrained
    from mmssl_seg.engine.hooks import pretrained_gaps
    from mmssl_seg.models.builder import build_model
    from tests.conftest import REPO, readme_commands
    argv = next(c for c in readme_commands(
        osp.join(REPO, 'configs/mask_contrast/README.md'),
        'tools/model_converters/extract_pretrained.py')
        if c[0] == 'moco_v2_800ep_pretrain.pth.tar')
    paper = osp.join(REPO, argv[argv.index('--target') + 1])
    source = str(tmp_path / 'moco_v2_800ep_pretrain.pth.tar')
    reference = _moco_v2_checkpoint(source)
    out = str(tmp_path / 'backbone.pth')
    spec = importlib.util.spec_from_file_location(
        'converter_tool', osp.join(REPO, 'tools/model_converters/'
                                   'extract_pretrained.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main([source, out, *argv[2:]]) == 0  # the flags as typed
    printed = capsys.readouterr().out
    assert 'dropped (a head of the source layout' in printed
    assert 'not taken (outside the prefixes above): module.encoder_k. ' \
        '(322), module.queue. (1), module.queue_ptr. (1)' in printed
    reports = extract_pretrained(
        source, str(tmp_path / 'again.pth'), paper, ['backbone'],
        source_prefixes={'backbone': 'module.encoder_q.'})
    assert reports[0].allowed_missing == [] and reports[0].remap == 'identity'
    assert reports[0].ignored_unexpected == []
    assert sorted(reports[0].dropped_heads) == [
        'fc.0.bias', 'fc.0.weight', 'fc.2.bias', 'fc.2.weight']
    saved = torch.load(out, weights_only=True)['state_dict']
    for key, value in reference.items():
        if not key.startswith('fc.'):
            assert torch.equal(saved['backbone.' + key], value), key
    cfg = Config.fromfile(paper)
    assert cfg.model.backbone.init_cfg.checkpoint == argv[1]  # its default
    cfg.model.backbone.init_cfg.checkpoint = out
    model = build_model(cfg)
    assert pretrained_gaps(model) == []
    model.init_weights()
    torch.testing.assert_close(model.backbone.conv1.weight,
                               reference['conv1.weight'])
    torch.testing.assert_close(
        model.momentum_encoder.module.backbone.layer4[2].conv3.weight,
        reference['layer4.2.conv3.weight'])
    v1c = Config.fromfile(paper.replace('_r50-d8_', '_r50-v1c-d8_'))
    v1c.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=out,
                                       prefix='backbone.')
    problems = pretrained_gaps(build_model(v1c))
    assert problems and '7x7-stem' in problems[0] and 'stem.0' in problems[0]


@pytest.mark.parametrize('small,big', [((7, 9), (61, 83)), ((4, 4), (32, 32)),
                                       ((12, 12), (96, 96))])
def test_salient_pixels_only_equal_the_full_resolution_map(small, big):
    """The evaluation's sparse bilinear gather gives the values and
    gradients of upsampling the whole map and normalising (the training
    step's form), at the salient pixels; bfloat16 maps keep their
    coordinates exact."""
    g = torch.Generator().manual_seed(0)
    maps = torch.randn(3, 5, *small, generator=g, dtype=torch.float64)
    masks = (torch.rand(3, *big, generator=g) > 0.6).long()
    masks[2] = 0  # an image without a salient pixel
    sparse_in = maps.clone().requires_grad_()
    dense_in = maps.clone().requires_grad_()
    pixels, ids = upsampled_pixels(sparse_in, masks)
    dense = F.normalize(F.interpolate(dense_in, size=big, mode='bilinear',
                                      align_corners=False), dim=1)
    salient = masks.bool()
    torch.testing.assert_close(pixels, dense.permute(0, 2, 3, 1)[salient])
    assert torch.equal(ids, salient.nonzero()[:, 0])
    (pixels * torch.arange(5.0)).sum().backward()
    (dense.permute(0, 2, 3, 1)[salient] * torch.arange(5.0)).sum().backward()
    torch.testing.assert_close(sparse_in.grad, dense_in.grad)
    half, _ = upsampled_pixels(maps.to(torch.bfloat16), masks,
                               normalize=False)
    reference = F.interpolate(maps.to(torch.bfloat16).double(), size=big,
                              mode='bilinear', align_corners=False)
    torch.testing.assert_close(
        half.double(), reference.permute(0, 2, 3, 1)[salient],
        atol=0.02, rtol=0.02)  # bfloat16 values, float32 coordinates


def test_the_paper_config_refuses_to_start_without_moco_v2(tmp_path):
    """The paper starts from MoCo v2: a run of the paper config without the
    converted file stops before anything is built with one message naming
    the converter command and the flag that trains from random init on
    purpose."""
    import os.path as osp
    import sys

    from tests.conftest import REPO, run_tool
    config = osp.join(REPO, 'configs/mask_contrast/mask-contrast_r50-d8_'
                      '4xb16-60e_voc12aug-224x224_unsup-sal.py')
    result = run_tool(sys.executable, 'tools/train.py', config,
                      '--work-dir', str(tmp_path / 'w'),
                      env={'MOCOV2_BACKBONE': str(tmp_path / 'moco.pth')})
    assert result.returncode == 1
    assert f'{tmp_path / "moco.pth"}  (pretrained weights (init_cfg))' in \
        result.stdout
    assert 'set MOCOV2_BACKBONE to its folder, or make it: the paper starts '\
        'from MoCo v2: python tools/model_converters/extract_pretrained.py ' \
        'moco_v2_800ep_pretrain.pth.tar' in result.stdout
    assert '--cfg-options model.backbone.init_cfg=None' in result.stdout
    assert 'Traceback' not in result.stdout
    # random init on purpose: the weights check is gone (the data is not)
    result = run_tool(sys.executable, 'tools/train.py', config,
                      '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                      'model.backbone.init_cfg=None',
                      env={'MOCOV2_BACKBONE': str(tmp_path / 'moco.pth')})
    assert 'pretrained weights' not in result.stdout
    assert 'Nothing was run' in result.stdout


@pytest.mark.parametrize('variant,base_lr,last_lr', [
    ('', 0.004, 0.004), ('_low-label', 0.001, 0.1)])
def test_fine_tuning_is_the_papers_recipe(variant, base_lr, last_lr):
    """Supplement F: batch 8, SGD momentum 0.9, weight decay 1e-4, poly, lr
    0.004 (1 and 2 % of the labels: 0.001, the final convolution 0.1), batch
    norm statistics frozen; the pretrained network has no auxiliary head."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from torch.nn.modules.batchnorm import _BatchNorm

    from mmssl_seg.models.builder import build_model
    from tests.conftest import REPO
    path = osp.join(REPO, 'configs/mask_contrast/deeplabv3-mask-contrast_'
                    f'r50-d8_2xb4-20k_voc12aug-512x512{variant}.py')
    cfg = Config.fromfile(path)
    gpus, per_gpu = 2, cfg.train_dataloader.batch_size
    assert '_2xb4-' in path and gpus * per_gpu == 8
    assert cfg.model.get('auxiliary_head') is None
    assert [s.type for s in cfg.param_scheduler] == ['PolyLR']
    cfg.model.backbone.norm_cfg = cfg.model.decode_head.norm_cfg = dict(
        type='BN', requires_grad=True)  # one process
    model = build_model(cfg)
    optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    assert type(optimizer).__name__ == 'SGD'
    lr_of = {id(p): g['lr'] for g in optimizer.param_groups
             for p in g['params']}
    for group in optimizer.param_groups:
        assert group['momentum'] == 0.9 and group['weight_decay'] == 1e-4
    classifier = {id(p) for p in model.decode_head.conv_seg.parameters()}
    for name, p in model.named_parameters():
        expected = last_lr if id(p) in classifier else base_lr
        assert lr_of[id(p)] == pytest.approx(expected), name
    model.train()
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and not any(m.training for m in norms)
