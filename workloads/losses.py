"""The autoencoder's perceptual and adversarial losses, as MONAI's LDM tutorials train it.

The tutorials add two terms to L1 + KL: a perceptual loss (MONAI's ``PerceptualLoss``, that
is LPIPS, on AlexNet for 2D images, and on SqueezeNet 1.1 for 3D volumes, applied to 2D
slices: "fake 3D", a fifth of the slices along each axis), weighted 0.001, and an adversarial
loss (MONAI's ``PatchDiscriminator``, least squares), weighted 0.01, with the discriminator
trained every step.

The perceptual networks' ImageNet weights are downloaded by MONAI at run time (through
``lpips`` and torchvision), which cannot happen here and must not: the workloads run offline,
and no package installable here ships those networks for a CPU build of torch. What stands in:
the same computation, LPIPS's (input scaling, features at the same layers, unit-normalised per
channel, squared difference, a 1x1 linear layer per tap, spatial mean, sum), on AlexNet's and
SqueezeNet 1.1's feature layers written out below as torchvision defines them, with weights at
PyTorch's default random initialisation, frozen. The layers, shapes and operations are the
tutorials', so the work per step is; the loss value means nothing, so the autoencoder does not
learn what the tutorials' does. Slices smaller than a network's smallest input (the tiny
preset's only) are zero-padded to it. The discriminator and its loss are MONAI's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

PERCEPTUAL_WEIGHT = 0.001  # the 2D and 3D tutorials'
ADVERSARIAL_WEIGHT = 0.01
FAKE_3D_RATIO = 0.2  # the 3D tutorial's share of slices per axis

# LPIPS's taps: the feature layers whose outputs it compares (indices into ``.features``)
# and their channels.
_TAPS = {
    "alex": ((1, 4, 7, 9, 11), (64, 192, 384, 256, 256)),
    "squeeze": ((1, 4, 7, 9, 10, 11, 12), (64, 128, 256, 384, 384, 512, 512)),
}
# Smallest 2D input (pixels a side) for which each network's pooling leaves a feature map.
MIN_SIDE = {"alex": 32, "squeeze": 32}


def alexnet_features() -> nn.Sequential:
    """AlexNet's convolutional part (torchvision's ``alexnet().features``)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
    )  # fmt: skip


class Fire(nn.Module):
    """SqueezeNet's block: a 1x1 squeeze, then 1x1 and 3x3 expansions side by side."""

    def __init__(self, inplanes: int, squeeze: int, e1: int, e3: int):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze, 1)
        self.expand1 = nn.Conv2d(squeeze, e1, 1)
        self.expand3 = nn.Conv2d(squeeze, e3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.squeeze(x))
        return torch.cat((torch.relu(self.expand1(x)), torch.relu(self.expand3(x))), 1)


def squeezenet11_features() -> nn.Sequential:
    """SqueezeNet 1.1's convolutional part (torchvision's ``squeezenet1_1().features``)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, stride=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
        Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), nn.MaxPool2d(3, 2, ceil_mode=True),
        Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), nn.MaxPool2d(3, 2, ceil_mode=True),
        Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256),
    )  # fmt: skip


class PerceptualStandIn(nn.Module):
    """LPIPS's computation on AlexNet or SqueezeNet 1.1 at a random initialisation (see above)."""

    def __init__(self, network: str, dims: int, fake_3d_ratio: float = FAKE_3D_RATIO):
        super().__init__()
        if network not in _TAPS:
            raise ValueError(f"unknown perceptual network {network!r}: alex or squeeze")
        self.network, self.dims, self.ratio = network, dims, fake_3d_ratio
        self.features = alexnet_features() if network == "alex" else squeezenet11_features()
        taps, channels = _TAPS[network]
        self.taps = frozenset(taps)
        self.last = max(taps)
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in channels)
        for lin in self.lins:  # LPIPS's learned linear weights are non-negative
            nn.init.uniform_(lin.weight, 0.0, 1.0 / lin.in_channels)
        # LPIPS's input scaling (ImageNet statistics, on inputs in [-1, 1])
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def _lpips(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        short = MIN_SIDE[self.network] - min(x.shape[-2:])
        if short > 0:  # the tiny preset's slices: padded to the smallest input the network takes
            x, y = F.pad(x, (0, short, 0, short)), F.pad(y, (0, short, 0, short))
        x = (x.expand(-1, 3, -1, -1) - self.shift) / self.scale
        y = (y.expand(-1, 3, -1, -1) - self.shift) / self.scale
        total = x.new_zeros(())
        k = 0
        for i, layer in enumerate(self.features):
            x, y = layer(x), layer(y)
            if i in self.taps:
                nx = x / (x.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
                ny = y / (y.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
                total = total + self.lins[k]((nx - ny).pow(2)).mean()
                k += 1
            if i == self.last:
                break
        return total

    def forward(self, recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.dims == 2:
            return self._lpips(recon, target)
        # Fake 3D: slices along each of the three axes, a share of them, as a batch of 2D images.
        total = recon.new_zeros(())
        for axis in (2, 3, 4):
            n = recon.shape[axis]
            picks = torch.randperm(n, device=recon.device)[: max(1, int(n * self.ratio))]
            total = total + self._lpips(_slices(recon, axis, picks), _slices(target, axis, picks))
        return total / 3


def _slices(volume: torch.Tensor, axis: int, picks: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W, D) -> the picked slices along ``axis``, as (B * len(picks), C, ., .)."""
    s = volume.index_select(axis, picks).movedim(axis, 1)  # B, k, C, ., .
    return s.reshape(-1, *s.shape[2:])


@dataclass
class AdversarialTerms:
    """The perceptual network, the discriminator, its optimiser and loss, for one autoencoder."""

    perceptual: PerceptualStandIn
    discriminator: Any
    optimizer: Any
    adversarial: Any
    scaler: Any
    channels: int  # the discriminator's first layer's
    layers: int

    def describe(self) -> str:
        return (
            f"L1 + KL + {PERCEPTUAL_WEIGHT} x perceptual (LPIPS's computation on"
            f" {'AlexNet' if self.perceptual.network == 'alex' else 'SqueezeNet 1.1'}"
            f"{', fake 3D' if self.perceptual.dims == 3 else ''}, random frozen weights standing in for"
            f" the tutorials' downloaded ones) + {ADVERSARIAL_WEIGHT} x adversarial (MONAI's"
            f" PatchDiscriminator, {self.layers} layers of {self.channels} channels, least squares, trained every step)"
        )


def build_terms(variant: Any, device: torch.device, scaler: Any) -> AdversarialTerms:
    """The tutorial's extra terms for ``variant``: its perceptual network and discriminator."""
    from monai.losses import PatchAdversarialLoss
    from monai.networks.nets import PatchDiscriminator

    disc = PatchDiscriminator(
        spatial_dims=variant.dims, num_layers_d=variant.disc_layers, channels=variant.disc_channels, in_channels=1, out_channels=1
    ).to(device)
    return AdversarialTerms(
        perceptual=PerceptualStandIn(variant.perceptual, variant.dims).to(device),
        discriminator=disc,
        optimizer=torch.optim.Adam(disc.parameters(), lr=5e-4),
        adversarial=PatchAdversarialLoss(criterion="least_squares"),
        scaler=scaler,
        channels=variant.disc_channels,
        layers=variant.disc_layers,
    )
