"""The latent diffusion model of a preset: MONAI's networks, schedulers and inferer, and the
steps the benchmarks time: autoencoder training, diffusion training, sampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F

from .losses import ADVERSARIAL_WEIGHT, PERCEPTUAL_WEIGHT
from .presets import Variant


@dataclass
class LDM:
    variant: Variant
    device: torch.device
    autoencoder: Any
    unet: Any
    scale_factor: float = 1.0
    precision: str = "fp32"  # fp32, or bf16 / fp16 autocast as in the tutorials

    def autocast(self) -> Any:
        """The forward passes' autocast context: a no-op in fp32."""
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)
        return torch.autocast(device_type=self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None)

    def scaler(self) -> Any:
        """Gradient scaling for fp16 on a GPU (the tutorials' GradScaler); a no-op otherwise."""
        return torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16" and self.device.type == "cuda")

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.variant.latent_channels, *self.variant.latent_size)

    def condition(self, batch: int) -> torch.Tensor | None:
        """Fixed conditioning values in [0, 1] (the bundle's inputs are normalised), or None."""
        n = self.variant.conditioning
        if not n:
            return None
        return torch.linspace(0.2, 0.8, n, device=self.device).expand(batch, 1, n).contiguous()

    def denoise(self, unet: Any, latent: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        """One UNet call; a conditioned network gets the values as extra constant channels
        and through cross-attention, as the brain bundle feeds them."""
        if cond is None:
            return unet(latent, timesteps=t)
        planes = cond[:, 0].reshape(*cond.shape[:1], cond.shape[2], *([1] * (latent.dim() - 2))).expand(
            latent.shape[0], cond.shape[2], *latent.shape[2:]
        )
        return unet(torch.cat((latent, planes), dim=1), timesteps=t, context=cond)


def build(v: Variant, device: str | torch.device, seed: int = 0, precision: str = "fp32") -> LDM:
    from monai.networks.nets import AutoencoderKL, DiffusionModelUNet

    torch.manual_seed(seed)
    dev = torch.device(device)
    ae = AutoencoderKL(**v.autoencoder_kwargs()).to(dev)
    unet = DiffusionModelUNet(**v.unet_kwargs()).to(dev)
    return LDM(v, dev, ae, unet, precision=precision)


def scheduler(kind: str, steps: int) -> Any:
    """A DDPM or DDIM scheduler set to ``steps`` denoising steps (of 1000 training steps)."""
    from monai.networks.schedulers import DDIMScheduler, DDPMScheduler

    if kind == "ddpm":
        s = DDPMScheduler(num_train_timesteps=1000, schedule="scaled_linear_beta", beta_start=0.0015, beta_end=0.0195)
    elif kind == "ddim":
        s = DDIMScheduler(num_train_timesteps=1000, schedule="scaled_linear_beta", beta_start=0.0015, beta_end=0.0195, clip_sample=False)
    else:
        raise ValueError(f"unknown sampler {kind!r}: ddpm or ddim")
    s.set_timesteps(num_inference_steps=steps)
    return s


def _more(steps: int | Callable[[int], bool]) -> Callable[[int], bool]:
    """Whether to run step ``i``: a fixed count, or a rule (``workloads.until.Until``)."""
    if callable(steps):
        return steps
    return lambda i: i < steps


def train_autoencoder(
    m: LDM,
    batches: Callable[[int], torch.Tensor],
    steps: int | Callable[[int], bool],
    step: Callable[[], None] | None = None,
    terms: Any = None,
) -> float:
    """Optimisation steps of the autoencoder; returns the last loss.

    ``steps``: how many, or a rule called with each step's index before it runs. ``step`` is
    called after each optimisation step, the device's work finished (a phase's ``step``, for
    per-step statistics). ``terms`` (``workloads.losses.AdversarialTerms``): the tutorials'
    perceptual and adversarial terms and the discriminator's own step; None: L1 + KL only."""
    opt = torch.optim.Adam(m.autoencoder.parameters(), lr=1e-4)
    scaler = m.scaler()
    m.autoencoder.train()
    loss = torch.zeros(())
    more = _more(steps)
    i = 0
    while more(i):
        x = batches(i)
        with m.autocast():
            recon, mu, sigma = m.autoencoder(x)
            kl = 0.5 * torch.sum(mu.pow(2) + sigma.pow(2) - torch.log(sigma.pow(2)) - 1, dim=list(range(1, mu.dim())))
            loss = F.l1_loss(recon.float(), x) + 1e-6 * kl.float().mean()
            if terms is not None:
                fake = terms.discriminator(recon.contiguous().float())[-1]
                loss = (
                    loss
                    + PERCEPTUAL_WEIGHT * terms.perceptual(recon.float(), x.float())
                    + ADVERSARIAL_WEIGHT * terms.adversarial(fake, target_is_real=True, for_discriminator=False)
                )
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        if terms is not None:  # the discriminator's step, on the same images
            with m.autocast():
                fake = terms.discriminator(recon.contiguous().detach())[-1]
                real = terms.discriminator(x.contiguous().detach())[-1]
                d_loss = ADVERSARIAL_WEIGHT * 0.5 * (
                    terms.adversarial(fake, target_is_real=False, for_discriminator=True)
                    + terms.adversarial(real, target_is_real=True, for_discriminator=True)
                )
            terms.optimizer.zero_grad(set_to_none=True)
            terms.scaler.scale(d_loss).backward()
            terms.scaler.step(terms.optimizer)
            terms.scaler.update()
        _marked(m.device, step)
        i += 1
    _sync(m.device)
    return float(loss.detach())


def set_scale_factor(m: LDM, x: torch.Tensor) -> None:
    """1 / std of the latents, as MONAI's tutorials do, so the diffusion sees unit variance."""
    with torch.no_grad():
        z = m.autoencoder.encode_stage_2_inputs(x)
    std = float(z.flatten().std())
    m.scale_factor = 1.0 / std if std > 0 else 1.0


def _inferer(m: LDM, sched: Any) -> Any:
    from monai.inferers import LatentDiffusionInferer

    return LatentDiffusionInferer(sched, scale_factor=m.scale_factor)


def train_diffusion(
    m: LDM,
    batches: Callable[[int], torch.Tensor],
    steps: int | Callable[[int], bool],
    unet: Any = None,
    step: Callable[[], None] | None = None,
) -> float:
    """Optimisation steps of the diffusion UNet on the autoencoder's latents (``steps`` and
    ``step``: as for :func:`train_autoencoder`)."""
    unet = unet if unet is not None else m.unet
    sched = scheduler("ddpm", 1000)
    inferer = _inferer(m, sched)
    opt = torch.optim.Adam(unet.parameters(), lr=1e-4)
    scaler = m.scaler()
    m.autoencoder.eval()
    unet.train()
    loss = torch.zeros(())
    more = _more(steps)
    i = 0
    while more(i):
        x = batches(i)
        noise = torch.randn((x.shape[0], *m.latent_shape), device=m.device)
        t = torch.randint(0, sched.num_train_timesteps, (x.shape[0],), device=m.device).long()
        cond = m.condition(x.shape[0])
        with m.autocast():
            if cond is None:
                pred = inferer(inputs=x, autoencoder_model=m.autoencoder, diffusion_model=unet, noise=noise, timesteps=t)
            else:  # what the inferer does, with the bundle's two ways of conditioning
                with torch.no_grad():
                    z = m.autoencoder.encode_stage_2_inputs(x) * m.scale_factor
                pred = m.denoise(unet, sched.add_noise(original_samples=z, noise=noise, timesteps=t), t, cond)
            loss = F.mse_loss(pred.float(), noise.float())
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        _marked(m.device, step)
        i += 1
    _sync(m.device)
    return float(loss.detach())


def sample(m: LDM, kind: str, steps: int, images: int) -> torch.Tensor:
    """Generate ``images`` images with ``kind`` (ddpm|ddim) in ``steps`` denoising steps."""
    sched = scheduler(kind, steps)
    inferer = _inferer(m, sched)
    m.autoencoder.eval()
    m.unet.eval()
    noise = torch.randn((images, *m.latent_shape), device=m.device)
    cond = m.condition(images)
    with torch.no_grad(), m.autocast():
        if cond is None:
            out = inferer.sample(input_noise=noise, autoencoder_model=m.autoencoder, diffusion_model=m.unet, scheduler=sched, verbose=False)
        else:  # the inferer's loop, with the bundle's conditioning
            latent = noise
            for t in sched.timesteps:
                step_t = torch.full((images,), int(t), device=m.device, dtype=torch.long)
                latent, _ = sched.step(m.denoise(m.unet, latent, step_t, cond), t, latent)
            out = m.autoencoder.decode_stage_2_outputs(latent / m.scale_factor)
    _sync(m.device)
    assert isinstance(out, torch.Tensor)
    return out.float()


def _marked(device: torch.device, step: Callable[[], None] | None) -> None:
    if step is not None:  # a step's end is when the device has finished it
        _sync(device)
        step()


def _sync(device: torch.device) -> None:
    # Timestamps must bracket the GPU's work, not only its launch.
    if device.type == "cuda":
        torch.cuda.synchronize(device)
