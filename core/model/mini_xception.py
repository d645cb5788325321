"""Mini-Xception backbone (oarriaga FER2013 Keras graph) in plain torch, TF padding included."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3  # Keras BatchNormalization default
DEFAULT_WIDTHS = [8, 16, 32, 64, 128]  # stem, then the four residual blocks


def tf_same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding TensorFlow's 'same' uses along one axis; extra pixel goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """Pad an NCHW tensor the way TF 'same' would for this kernel and stride."""
    top, bottom = tf_same_pad(x.shape[-2], kernel, stride)
    left, right = tf_same_pad(x.shape[-1], kernel, stride)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


class MaxPoolSame(nn.Module):
    """Keras MaxPooling2D(padding='same'): pads with -inf (asymmetric on even sizes)."""

    def __init__(self, kernel: int = 3, stride: int = 2):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pad_same(x, self.kernel, self.stride, value=float("-inf"))
        return F.max_pool2d(x, self.kernel, self.stride)


class ConvSame(nn.Conv2d):
    """Conv2d with TF 'same' padding computed from the input size (zero padded)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(pad_same(x, self.kernel_size[0], self.stride[0]))


class SeparableConv(nn.Module):
    """Keras SeparableConv2D(depth_multiplier=1, same, no bias): depthwise 3x3 then pointwise 1x1."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.depthwise = nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False)
        self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class XceptionBlock(nn.Module):
    """[SepConv-BN-ReLU-SepConv-BN-MaxPool(3, 2, same)] + [Conv1x1 stride 2-BN]."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.sep1 = SeparableConv(c_in, c_out)
        self.bn1 = nn.BatchNorm2d(c_out, eps=BN_EPS)
        self.sep2 = SeparableConv(c_out, c_out)
        self.bn2 = nn.BatchNorm2d(c_out, eps=BN_EPS)
        self.pool = MaxPoolSame(3, 2)
        self.residual = ConvSame(c_in, c_out, 1, stride=2, bias=False)
        self.residual_bn = nn.BatchNorm2d(c_out, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.sep1(x)))
        y = self.pool(self.bn2(self.sep2(y)))
        return y + self.residual_bn(self.residual(x))


class MiniXception(nn.Module):
    """Stem of two valid 3x3 convs, four residual blocks; returns the (B, C, H, W) feature map.

    The Keras classifier (conv3x3 -> global average pool -> softmax) is the emotion head of
    AffectNet (core.model.net.ConvPoolHead), not part of this backbone.
    """

    def __init__(self, in_channels: int = 1, widths: list[int] | None = None):
        super().__init__()
        widths = list(widths or DEFAULT_WIDTHS)
        stem = widths[0]
        self.conv1 = nn.Conv2d(in_channels, stem, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem, eps=BN_EPS)
        self.conv2 = nn.Conv2d(stem, stem, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(stem, eps=BN_EPS)
        self.blocks = nn.ModuleList(
            XceptionBlock(c_in, c_out) for c_in, c_out in zip(widths[:-1], widths[1:], strict=False))
        self.feature_dim = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for block in self.blocks:
            x = block(x)
        return x
