"""LDM benchmarks: each test trains or samples one preset, inside a measured phase.

Phases carry ``items`` (training steps, generated images) so the report shows energy and
CO2 per step and per image, and each test projects its per-item cost to a full run (the
study's 150,000 training iterations and 10,000 generated images by default). Training marks
each optimisation step (``ph.step()``), so its per-step figure has a spread and a 95%
interval after a warm-up; sampling makes its images in one batch, so its phase has one figure.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import torch

from . import ddp
from .ldm import build, sample, set_scale_factor, train_autoencoder, train_diffusion
from .presets import Variant


def warmup(steps: int) -> int:
    """Training steps left out of the per-step statistics: the first fifth, at most 5
    (allocator, kernel selection and caches settle in the first steps)."""
    return min(5, steps // 5)


def _prefetch(carbon: Any, batches: Any, steps: int) -> Any:
    """Every step's batch, made (or loaded) and placed on the device before the measured
    loop, in a phase of its own: data preparation is not billed to the training steps."""
    with carbon.phase("data", items=steps):
        data = [batches(i) for i in range(steps)]
    return data.__getitem__


def _info(carbon: Any, v: Variant, device: str, **extra: Any) -> None:
    cfg = extra.pop("cfg")
    batch = extra.pop("batch", v.batch)
    precision, precision_why = extra.pop("precision", cfg.precision_for(v))
    threads = extra.pop("threads", torch.get_num_threads())
    threads_why = extra.pop("threads_chosen_by", cfg.threads_why)
    deterministic = extra.pop("deterministic", torch.are_deterministic_algorithms_enabled())
    carbon.info(
        preset=v.preset,
        dims=v.dims,
        image_size=list(v.image_size),
        batch=batch,
        device=device,
        torch=torch.__version__,
        threads=threads,
        threads_chosen_by=threads_why,
        precision=precision,
        precision_chosen_by=precision_why,
        deterministic=deterministic,
        **extra,
    )


@pytest.mark.train
def test_train_autoencoder(carbon: Any, cfg: Any, variant: Variant) -> None:
    m = build(variant, cfg.device, cfg.seed, cfg.precision_for(variant)[0])
    steps = cfg.steps(variant.ae_steps)
    batches = _prefetch(carbon, cfg.batches(variant, cfg.device), steps)
    with carbon.phase("train_autoencoder", items=steps, warmup=warmup(steps)) as ph:
        loss = train_autoencoder(m, batches, steps, step=ph.step)
    assert loss == loss, "the autoencoder loss is NaN"
    carbon.project("train_autoencoder", cfg.train_iters, f"{cfg.train_iters:,} autoencoder iterations")
    _info(carbon, variant, cfg.device, cfg=cfg, steps=steps)


@pytest.mark.train
def test_train_diffusion(carbon: Any, cfg: Any, variant: Variant) -> None:
    m = build(variant, cfg.device, cfg.seed, cfg.precision_for(variant)[0])
    steps = cfg.steps(variant.diffusion_steps)
    batches = _prefetch(carbon, cfg.batches(variant, cfg.device), steps)
    set_scale_factor(m, batches(0))
    with carbon.phase("train", items=steps, warmup=warmup(steps)) as ph:
        loss = train_diffusion(m, batches, steps, step=ph.step)
    assert loss == loss, "the diffusion loss is NaN"
    carbon.project("train", cfg.train_iters, f"{cfg.train_iters:,} training iterations")
    _info(carbon, variant, cfg.device, cfg=cfg, steps=steps, scale_factor=m.scale_factor)


@pytest.mark.sample
def test_sample(carbon: Any, cfg: Any, variant: Variant, sampler: tuple[str, int]) -> None:
    kind, steps = sampler
    steps = cfg.steps(steps)
    m = build(variant, cfg.device, cfg.seed, cfg.precision_for(variant)[0])
    set_scale_factor(m, cfg.batches(variant, cfg.device)(0))
    n = variant.sample_images
    with carbon.phase("sample", items=n):
        images = sample(m, kind, steps, n)
    assert images.shape == (n, 1, *variant.image_size)
    assert torch.isfinite(images).all()
    carbon.project("sample", cfg.images, f"{cfg.images:,} images ({kind.upper()}, {steps} steps)")
    _info(carbon, variant, cfg.device, cfg=cfg, batch=n, sampler=kind, denoising_steps=steps)


def _ddp_variants(v: Variant) -> bool:
    return not (v.preset == "tiny" and v.dims == 3)  # one tiny DDP run keeps CI short


@pytest.mark.train
@pytest.mark.ddp
def test_train_diffusion_ddp(carbon: Any, cfg: Any, variant: Variant, tmp_path: Any) -> None:
    world = 2
    why = ddp.available(cfg.device, world)
    if why:
        pytest.skip(why)
    steps = cfg.steps(variant.diffusion_steps)
    with carbon.phase("spawn_and_train"):  # with the processes' start-up (imports, init)
        start, end = ddp.train(variant.preset, variant.dims, steps, cfg.device, tmp_path, world=world, seed=cfg.seed, data=cfg.data)
    carbon.add_phase("train", start, end, items=steps)  # the training loop alone, timed in the workers
    carbon.project("train", cfg.train_iters, f"{cfg.train_iters:,} training iterations on {world} processes")
    _info(
        carbon, variant, cfg.device, cfg=cfg, steps=steps, world_size=world, backend="nccl" if cfg.device == "cuda" else "gloo",
        precision=("fp32", "the DDP workers run fp32"),
        # What the workers ran with, not this process: they share the cores, and start afresh
        threads=max(1, (os.cpu_count() or 1) // world) if cfg.device == "cpu" else torch.get_num_threads(),
        threads_chosen_by="each DDP worker: the machine's cores / processes" if cfg.device == "cpu" else "torch's default",
        deterministic=False,
    )


test_train_diffusion_ddp.variants_filter = _ddp_variants  # type: ignore[attr-defined]
