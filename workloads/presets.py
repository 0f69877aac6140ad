"""Latent diffusion presets, from a CPU-sized toy to the sizes of MONAI's tutorials and bundle.

Each preset has one variant per image dimensionality (2D, 3D). A variant fixes the image
size, the autoencoder and UNet shapes, the batch, the step counts and the samplers. The
networks are MONAI's (``AutoencoderKL``, ``DiffusionModelUNet``); nothing here defines a
layer of its own.
"""

from __future__ import annotations

import dataclasses

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Variant:
    preset: str
    dims: int  # 2 or 3
    image_size: tuple[int, ...]  # H, W[, D]
    ae_channels: tuple[int, ...]
    ae_res_blocks: int
    ae_attention: tuple[bool, ...]
    ae_norm_groups: int
    ae_nonlocal_attn: bool
    latent_channels: int
    unet_channels: tuple[int, ...]
    unet_res_blocks: int
    unet_attention: tuple[bool, ...]
    unet_heads: tuple[int, ...]
    unet_norm_groups: int
    batch: int
    ae_steps: int  # autoencoder training steps per benchmark
    diffusion_steps: int  # diffusion training steps per benchmark
    sample_images: int  # images generated per sampling benchmark
    samplers: tuple[tuple[str, int], ...]  # (ddpm|ddim, denoising steps)
    stands_for: str
    unet_resblock_updown: bool = False  # down- and upsampling by residual blocks (the brain bundle)
    # Conditioning variables (the brain bundle: gender, age, ventricular and brain volume), fed
    # both as extra input channels and by cross-attention, as the bundle does; 0: unconditional
    conditioning: int = 0
    precision: str = "fp32"  # the tutorial's: fp16 autocast on a GPU for the tutorial and brain presets
    sample_batch: int = 1  # images per sampling call: the tutorials and the bundle generate one at a time
    warmup: int | None = None  # training steps left out of the per-step statistics (None: a fifth, at most 5)
    # The autoencoder's extra loss terms (workloads.losses): the tutorials' perceptual network
    # (alex for 2D, squeeze over slices for 3D), their discriminator's width, and whether they
    # are on by default (off for tiny, which is for a CPU in CI)
    perceptual: str = "alex"
    disc_channels: int = 64
    disc_layers: int = 3  # the tutorials'; fewer where the images are too small for three
    full_losses: bool = True

    @property
    def id(self) -> str:
        return f"{self.preset}-{self.dims}d"

    @property
    def latent_size(self) -> tuple[int, ...]:
        factor = 2 ** (len(self.ae_channels) - 1)
        return tuple(s // factor for s in self.image_size)

    def autoencoder_kwargs(self) -> dict[str, Any]:
        return dict(
            spatial_dims=self.dims,
            in_channels=1,
            out_channels=1,
            channels=self.ae_channels,
            latent_channels=self.latent_channels,
            num_res_blocks=self.ae_res_blocks,
            norm_num_groups=self.ae_norm_groups,
            attention_levels=self.ae_attention,
            with_encoder_nonlocal_attn=self.ae_nonlocal_attn,
            with_decoder_nonlocal_attn=self.ae_nonlocal_attn,
        )

    def unet_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = dict(
            spatial_dims=self.dims,
            in_channels=self.latent_channels + self.conditioning,
            out_channels=self.latent_channels,
            num_res_blocks=self.unet_res_blocks,
            channels=self.unet_channels,
            attention_levels=self.unet_attention,
            num_head_channels=self.unet_heads,
            norm_num_groups=self.unet_norm_groups,
        )
        if self.unet_resblock_updown:
            kw.update(resblock_updown=True, norm_eps=1e-6)
        if self.conditioning:
            kw.update(with_conditioning=True, cross_attention_dim=self.conditioning, transformer_num_layers=1, upcast_attention=True)
        return kw

    def warmup_for(self, steps: int) -> int:
        """Training steps left out of the per-step statistics, for a run of ``steps``: the
        preset's count (the first steps, where the allocator, kernel selection and caches
        settle), never all of them."""
        own = min(5, steps // 5) if self.warmup is None else self.warmup
        return max(0, min(own, steps - 2))

    def unconditional(self) -> "Variant":
        """The same network without its conditioning inputs."""
        return dataclasses.replace(self, conditioning=0, stands_for=self.stands_for.replace(", conditioned", ", unconditional"))


def _tiny(dims: int) -> Variant:
    return Variant(
        preset="tiny",
        dims=dims,
        image_size=(32, 32) if dims == 2 else (16, 16, 16),
        ae_channels=(8, 16),
        ae_res_blocks=1,
        ae_attention=(False, False),
        ae_norm_groups=8,
        ae_nonlocal_attn=False,
        latent_channels=3,
        unet_channels=(16, 32),
        unet_res_blocks=1,
        unet_attention=(False, True),
        unet_heads=(0, 16),
        unet_norm_groups=8,
        batch=2,
        ae_steps=10,
        diffusion_steps=10,
        sample_images=2,
        samplers=(("ddpm", 50), ("ddim", 20)),
        stands_for="a toy LDM with the same parts as the real ones, small enough for a CPU in CI",
        sample_batch=2,
        perceptual="alex" if dims == 2 else "squeeze",
        disc_channels=64 if dims == 2 else 32,
        disc_layers=3 if dims == 2 else 2,  # a 16^3 volume leaves no patch after three
        full_losses=False,
    )


PRESETS: dict[str, dict[int, Variant]] = {
    "tiny": {2: _tiny(2), 3: _tiny(3)},
    "tutorial-2d": {
        2: Variant(
            preset="tutorial-2d",
            dims=2,
            image_size=(64, 64),
            ae_channels=(128, 128, 256),
            ae_res_blocks=2,
            ae_attention=(False, False, False),
            ae_norm_groups=32,
            ae_nonlocal_attn=False,
            latent_channels=3,
            unet_channels=(128, 256, 512),
            unet_res_blocks=2,
            unet_attention=(False, True, True),
            unet_heads=(0, 256, 512),
            unet_norm_groups=32,
            batch=64,  # the 2D tutorial's training batch
            ae_steps=20,
            diffusion_steps=50,
            sample_images=8,
            samplers=(("ddpm", 1000), ("ddim", 250), ("ddim", 50)),
            stands_for="MONAI's 2D LDM tutorial (MedNIST-sized 64x64 images)",
            precision="fp16",
            warmup=5,
        )
    },
    "tutorial-3d": {
        3: Variant(
            preset="tutorial-3d",
            dims=3,
            image_size=(96, 96, 64),
            ae_channels=(32, 64, 64),
            ae_res_blocks=1,
            ae_attention=(False, False, True),
            ae_norm_groups=16,
            ae_nonlocal_attn=True,
            latent_channels=3,
            unet_channels=(32, 64, 64),
            unet_res_blocks=1,
            unet_attention=(False, True, True),
            unet_heads=(0, 64, 64),
            unet_norm_groups=32,
            batch=2,
            ae_steps=10,
            diffusion_steps=20,
            sample_images=2,
            samplers=(("ddpm", 1000), ("ddim", 250), ("ddim", 50)),
            stands_for="MONAI's 3D LDM tutorial (brain MRI volumes at 96x96x64)",
            precision="fp16",
            warmup=3,
            perceptual="squeeze",
            disc_channels=32,
        )
    },
    "brain-3d": {
        3: Variant(
            preset="brain-3d",
            dims=3,
            image_size=(160, 224, 160),
            ae_channels=(64, 128, 128, 128),
            ae_res_blocks=2,
            ae_attention=(False, False, False, False),
            ae_norm_groups=32,
            ae_nonlocal_attn=False,
            latent_channels=3,
            unet_channels=(256, 512, 768),
            unet_res_blocks=2,
            unet_attention=(False, True, True),
            unet_heads=(0, 512, 768),
            unet_norm_groups=32,
            batch=1,
            ae_steps=2,
            diffusion_steps=5,
            sample_images=1,
            samplers=(("ddim", 50),),
            stands_for="MONAI's brain LDM bundle (UK Biobank 160x224x160 volumes), conditioned",
            unet_resblock_updown=True,
            conditioning=4,
            precision="fp16",
            warmup=1,
            perceptual="squeeze",  # the 3D tutorial's losses: the bundle ships no training recipe
            disc_channels=32,
        )
    },
}


def variants(names: list[str]) -> list[Variant]:
    """The variants of the named presets, in order; unknown names raise ValueError."""
    out = []
    for name in names:
        if name not in PRESETS:
            raise ValueError(f"unknown workload preset {name!r}; known: {', '.join(PRESETS)}")
        out.extend(PRESETS[name].values())
    return out


def parameter_counts(v: Variant) -> tuple[int, int]:
    """(autoencoder, UNet) parameters, counted on the meta device: no memory, well under a second."""
    import torch
    from monai.networks.nets import AutoencoderKL, DiffusionModelUNet

    with torch.device("meta"):
        ae = AutoencoderKL(**v.autoencoder_kwargs())
        unet = DiffusionModelUNet(**v.unet_kwargs())
    return sum(p.numel() for p in ae.parameters()), sum(p.numel() for p in unet.parameters())
