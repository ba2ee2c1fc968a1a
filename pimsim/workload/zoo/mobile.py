"""Mobile CNNs: MobileNetV2 (Sandler et al., CVPR 2018) and EfficientNet-B0 (Tan & Le,
ICML 2019), 224x224 ImageNet inputs, in torchvision's layout (BN folded at export;
dropout and stochastic depth are identities in inference)."""

from __future__ import annotations

from torch import nn


def _cbr(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1,
         act: type | None = nn.ReLU6) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
              nn.BatchNorm2d(c_out)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 linear projection."""

    def __init__(self, c_in: int, c_out: int, stride: int, expand: int):
        super().__init__()
        hidden = c_in * expand
        layers = [] if expand == 1 else [_cbr(c_in, hidden, 1)]
        layers += [_cbr(hidden, hidden, 3, stride, groups=hidden), _cbr(hidden, c_out, 1, act=None)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


#: (expansion t, output channels c, repeats n, first stride s): Sandler et al., Table 2
MOBILENET_V2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1)]


def mobilenet_v2(num_classes: int = 1000, settings=MOBILENET_V2, stem: int = 32,
                 last: int = 1280) -> nn.Module:
    """MobileNetV2 (``settings``/``stem``/``last`` shrink it for tests)."""
    layers: list[nn.Module] = [_cbr(3, stem, 3, 2)]
    c_in = stem
    for t, c, n, s in settings:
        for i in range(n):
            layers.append(InvertedResidual(c_in, c, s if i == 0 else 1, t))
            c_in = c
    layers += [_cbr(c_in, last, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
               nn.Linear(last, num_classes)]
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al., CVPR 2018) as in EfficientNet: SiLU, sigmoid."""

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.act = nn.SiLU()
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        return x * self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))


class MBConv(nn.Module):
    """EfficientNet block: 1x1 expand, kxk depthwise, squeeze-excite, 1x1 projection."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, expand: int):
        super().__init__()
        hidden = c_in * expand
        layers: list[nn.Module] = [] if expand == 1 else [_cbr(c_in, hidden, 1, act=nn.SiLU)]
        layers += [_cbr(hidden, hidden, k, stride, groups=hidden, act=nn.SiLU),
                   SqueezeExcite(hidden, max(1, c_in // 4)), _cbr(hidden, c_out, 1, act=None)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


#: (expansion, kernel, stride, input channels, output channels, repeats): Tan & Le, Table 1
EFFICIENTNET_B0 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
                   (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
                   (6, 3, 1, 192, 320, 1)]


def efficientnet_b0(num_classes: int = 1000, settings=EFFICIENTNET_B0,
                    last: int = 1280) -> nn.Module:
    """EfficientNet-B0 (``settings``/``last`` shrink it for tests)."""
    layers: list[nn.Module] = [_cbr(3, settings[0][3], 3, 2, act=nn.SiLU)]
    for e, k, s, c_in, c_out, n in settings:
        for i in range(n):
            layers.append(MBConv(c_in if i == 0 else c_out, c_out, k, s if i == 0 else 1, e))
    layers += [_cbr(settings[-1][4], last, 1, act=nn.SiLU), nn.AdaptiveAvgPool2d(1),
               nn.Flatten(), nn.Dropout(0.2), nn.Linear(last, num_classes)]
    return nn.Sequential(*layers)
