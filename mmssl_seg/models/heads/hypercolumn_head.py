from __future__ import annotations

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS


@MODELS.register_module()
class HypercolumnHead(BaseDecodeHead):
    """Hypercolumn decode head (Hariharan et al., CVPR 2015), as Larsson et
    al. (2017) use it on VGG16 and Mix-and-Match fine-tunes with it.

    Features of several backbone stages are resampled bilinearly to one
    resolution and concatenated per pixel (the hypercolumn); a per-pixel MLP
    (1x1 convs) predicts the classes. With ``num_points`` the training loss
    is computed on that many random pixels per image only, sampling the
    hypercolumns sparsely there (as Larsson et al. train), which avoids the
    full-resolution concatenation; inference is dense. The authors sample
    256 pixels per 512 crop uniformly in ``[96, 416)`` (``point_margin``
    96: none near the border).

    When the MLP's first layer has no norm it is linear, and it commutes
    with the bilinear upsampling: the dense forward applies its slice of
    weights to each map at the map's own resolution and sums the upsampled
    results, never building the concatenated hypercolumns (14467 channels
    at full resolution for the authors' 18 VGG16 maps).

    Args:
        in_channels: Channels of the tapped stages (``in_index``).
        channels: Width of the MLP's hidden layers.
        num_convs: Hidden 1x1 layers of the MLP.
        num_points: Pixels per image for the training loss (0: dense).
        point_margin: Border (pixels) where no training pixel is drawn.
        Others as :class:`BaseDecodeHead`; ``input_transform`` is
        ``'multiple_select'``.
    """

    def __init__(self, num_convs: int = 1, num_points: int = 0,
                 point_margin: int = 0, **kwargs) -> None:
        super().__init__(input_transform='multiple_select', **kwargs)
        self.num_points = num_points
        self.point_margin = point_margin
        layers = []
        in_channels = sum(self.in_channels)
        for _ in range(num_convs):
            layers.append(ConvModule(in_channels, self.channels, 1,
                                     conv_cfg=self.conv_cfg,
                                     norm_cfg=self.norm_cfg,
                                     act_cfg=self.act_cfg))
            in_channels = self.channels
        self.mlp = torch.nn.Sequential(*layers)

    def point_logits(self, inputs: list, ys: torch.Tensor, xs: torch.Tensor,
                     size: tuple[int, int]) -> torch.Tensor:
        """Class logits (``N x K x P``) at pixels ``(ys, xs)`` (``N x P``) of
        an ``size = (H, W)`` image, from hypercolumns sampled there; equal to
        upsampling every stage to ``size`` first (same half-pixel convention,
        borders clamped) without building the full-resolution stack."""
        h, w = size
        grid = torch.stack([(xs + 0.5) / w * 2 - 1, (ys + 0.5) / h * 2 - 1],
                           dim=-1)[:, :, None].float()  # N x P x 1 x 2
        hypercolumns = torch.cat([
            F.grid_sample(f, grid.to(f), mode='bilinear',
                          padding_mode='border',
                          align_corners=self.align_corners)
            for f in self._transform_inputs(inputs)
        ], dim=1)
        return self._predict(hypercolumns)[..., 0]

    def _predict(self, hypercolumns: torch.Tensor) -> torch.Tensor:
        return self.cls_seg(self.mlp(hypercolumns))

    def forward(self, inputs: list) -> torch.Tensor:
        feats = self._transform_inputs(inputs)
        size = feats[0].shape[2:]  # the finest tapped stage

        def up(f: torch.Tensor) -> torch.Tensor:
            return F.interpolate(f, size=size, mode='bilinear',
                                 align_corners=self.align_corners
                                 ) if f.shape[2:] != size else f

        first = self.mlp[0] if len(self.mlp) else None
        if first is None or first.with_norm:
            return self._predict(torch.cat([up(f) for f in feats], dim=1))
        weights = first.conv.weight.split(self.in_channels, dim=1)
        x = sum(up(F.conv2d(f, w)) for f, w in zip(feats, weights))
        if first.conv.bias is not None:
            x = x + first.conv.bias.view(1, -1, 1, 1)
        if first.with_activation:
            x = first.activate(x)
        return self.cls_seg(self.mlp[1:](x))

    def loss(self, inputs: list, batch_data_samples: list,
             train_cfg: dict) -> dict:
        if not self.num_points:
            return super().loss(inputs, batch_data_samples, train_cfg)
        labels = self._stack_batch_gt(batch_data_samples)[:, 0]  # N x H x W
        n, h, w = labels.shape
        m = self.point_margin
        ys = torch.randint(m, h - m, (n, self.num_points),
                           device=labels.device)
        xs = torch.randint(m, w - m, (n, self.num_points),
                           device=labels.device)
        logits = self.point_logits(inputs, ys, xs, (h, w))  # N x K x P
        targets = labels[torch.arange(n, device=labels.device)[:, None], ys,
                         xs]  # N x P
        losses = self.loss_decode if isinstance(
            self.loss_decode, torch.nn.ModuleList) else [self.loss_decode]
        loss = dict()
        for loss_decode in losses:
            loss[loss_decode.loss_name] = loss.get(
                loss_decode.loss_name, 0) + loss_decode(
                    logits, targets, ignore_index=self.ignore_index)
        valid = targets != self.ignore_index
        correct = (logits.argmax(1) == targets) & valid
        loss['acc_seg'] = correct.sum().float() / valid.sum().clamp(
            min=1) * 100
        return loss
