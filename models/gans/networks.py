"""The GANs' networks (torch): the small forger and judge of the plane, and the convolutional
ones of the digits. models/gans imports this module on first use, so that the app starts
without importing torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

# -- The plane ---------------------------------------------------------------------------------


class PlaneMLP(nn.Module):
    """n_in -> hidden -> hidden -> n_out, ReLU between (GAN Lab's are two layers of 8; ours are
    wider, which is still instant, and learns a ring or two moons in a few hundred steps)."""

    def __init__(self, n_in: int, n_out: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Linear(hidden, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# -- Digits ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigitGANConfig:
    z_dim: int = 64  # the noise a digit is made from
    width: int = 64  # channels of the generator's last hidden layer (and the judge's first)
    classes: int = 0  # 10: conditional (the class is an input of both); 0: unconditional
    hidden: int = 0  # a fully connected layer of this many units first (InfoGAN's 1024), or none

    def asdict(self) -> dict:
        return asdict(self)


class DigitGenerator(nn.Module):
    """DCGAN's generator for 28 x 28: noise (and the class, one-hot) -> (a hidden layer, if
    asked) -> a 7 x 7 map of 2w channels -> 14 x 14 x w -> 28 x 28 x 1, transposed
    convolutions with batch norm and ReLU, tanh at the end (ink at +1, paper at -1)."""

    def __init__(self, config: DigitGANConfig):
        super().__init__()
        self.config = config
        w = config.width
        n_in = config.z_dim + config.classes
        self.hidden = (nn.Sequential(nn.Linear(n_in, config.hidden, bias=False),
                                     nn.BatchNorm1d(config.hidden), nn.ReLU())
                       if config.hidden else nn.Identity())
        self.project = nn.Linear(config.hidden or n_in, 2 * w * 7 * 7, bias=False)
        self.bn0 = nn.BatchNorm1d(2 * w * 7 * 7)
        self.up1 = nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False)  # 7 -> 14
        self.bn1 = nn.BatchNorm2d(w)
        self.up2 = nn.ConvTranspose2d(w, 1, 4, 2, 1)  # 14 -> 28

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # z: (B, z_dim); labels: (B,) digits, for a conditional generator -> (B, 1, 28, 28)
        if self.config.classes:
            z = torch.cat([z, F.one_hot(labels, self.config.classes).to(z.dtype)], dim=1)
        x = F.relu(self.bn0(self.project(self.hidden(z)))).view(len(z), 2 * self.config.width, 7, 7)
        x = F.relu(self.bn1(self.up1(x)))
        return torch.tanh(self.up2(x))


class DigitDiscriminator(nn.Module):
    """DCGAN's judge: 28 x 28 (and the class, as ten constant channels) -> 14 x 14 x w ->
    7 x 7 x 2w, strided convolutions with leaky ReLU -> (a hidden layer, if asked) -> one logit
    (high: real)."""

    def __init__(self, config: DigitGANConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.conv1 = nn.Conv2d(1 + config.classes, w, 4, 2, 1)  # 28 -> 14
        self.conv2 = nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False)  # 14 -> 7
        self.bn2 = nn.BatchNorm2d(2 * w)
        self.hidden = (nn.Sequential(nn.Linear(2 * w * 7 * 7, config.hidden, bias=False),
                                     nn.BatchNorm1d(config.hidden), nn.LeakyReLU(0.2))
                       if config.hidden else nn.Identity())
        self.out = nn.Linear(config.hidden or 2 * w * 7 * 7, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # x: (B, 1, 28, 28) in [-1, 1] -> (B,) logits
        if self.config.classes:
            maps = F.one_hot(labels, self.config.classes).to(x.dtype)[:, :, None, None]
            x = torch.cat([x, maps.expand(-1, -1, 28, 28)], dim=1)
        x = F.leaky_relu(self.conv1(x), 0.2)
        x = F.leaky_relu(self.bn2(self.conv2(x)), 0.2)
        return self.out(self.hidden(x.flatten(1))).squeeze(1)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: N(0, 0.02) weights, batch norm's scale N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def to_image(x: torch.Tensor) -> torch.Tensor:
    """The generator's output (-1 paper, +1 ink) as an image in [0, 1], 1 = ink."""
    return (x + 1) / 2


def from_image(x: torch.Tensor) -> torch.Tensor:
    return x * 2 - 1
