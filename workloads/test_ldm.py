"""LDM benchmarks: each test trains or samples one preset, inside a measured phase.

Phases carry ``items`` (training steps, generated images) so the report shows energy and
CO2 per step and per image, and each test projects its per-item cost to a full run (the
study's 150,000 training iterations and 10,000 generated images by default). Training marks
each optimisation step (``ph.step()``), so its per-step figure has a spread and a 95%
interval after a warm-up (on a GPU, training runs until that interval is narrow: see
``until.py``); sampling marks each call, a batch of the tutorial's size (one image), so its
per-image figure has one too when it makes three images or more.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import torch

from . import ddp
from .ldm import build, sample, set_scale_factor, train_autoencoder, train_diffusion
from .losses import build_terms
from .presets import Variant


def _prefetch(carbon: Any, batches: Any, steps: int) -> Any:
    """Every step's batch, made (or loaded) and placed on the device before the measured
    loop, in a phase of its own: data preparation is not billed to the training steps. A
    loop that runs longer (``--workload-interval``) goes over them again, as epochs do."""
    with carbon.phase("data", items=steps):
        data = [batches(i) for i in range(steps)]
    return lambda i: data[i % steps]


def _steps_info(until: Any) -> dict[str, Any]:
    return {"steps": until.ran, "warmup_steps": until.warmup, "steps_chosen_by": until.why}


def _info(carbon: Any, v: Variant, device: str, **extra: Any) -> None:
    cfg = extra.pop("cfg")
    batch = extra.pop("batch", cfg.batch_for(v))
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
    terms = build_terms(variant, m.device, m.scaler()) if cfg.full_losses(variant) else None
    batches = _prefetch(carbon, cfg.batches(variant, cfg.device), steps)
    until = cfg.until(variant, steps)
    with carbon.phase("train_autoencoder", warmup=until.warmup) as ph:
        loss = train_autoencoder(m, batches, until, step=ph.step, terms=terms)
    assert loss == loss, "the autoencoder loss is NaN"
    carbon.project("train_autoencoder", cfg.train_iters, f"{cfg.train_iters:,} autoencoder iterations")
    _info(
        carbon, variant, cfg.device, cfg=cfg, **_steps_info(until),
        ae_loss=terms.describe() if terms is not None else "L1 + KL only (no perceptual or adversarial term)",
    )  # fmt: skip


@pytest.mark.train
def test_train_diffusion(carbon: Any, cfg: Any, variant: Variant) -> None:
    m = build(variant, cfg.device, cfg.seed, cfg.precision_for(variant)[0])
    steps = cfg.steps(variant.diffusion_steps)
    batches = _prefetch(carbon, cfg.batches(variant, cfg.device), steps)
    set_scale_factor(m, batches(0))
    until = cfg.until(variant, steps)
    with carbon.phase("train", warmup=until.warmup) as ph:
        loss = train_diffusion(m, batches, until, step=ph.step)
    assert loss == loss, "the diffusion loss is NaN"
    carbon.project("train", cfg.train_iters, f"{cfg.train_iters:,} training iterations")
    _info(carbon, variant, cfg.device, cfg=cfg, **_steps_info(until), scale_factor=m.scale_factor)


@pytest.mark.sample
def test_sample(carbon: Any, cfg: Any, variant: Variant, sampler: tuple[str, int]) -> None:
    kind, steps = sampler
    steps = cfg.steps(steps)
    m = build(variant, cfg.device, cfg.seed, cfg.precision_for(variant)[0])
    set_scale_factor(m, cfg.batches(variant, cfg.device)(0))
    n = variant.sample_images
    b = min(n, cfg.sample_batch_for(variant))
    calls = -(-n // b)  # sampling calls, each making b images
    # An item is an image when the calls make one each (the tutorials') or there is one call;
    # else it is a call's batch. Each call is marked, and with three or more the first is a
    # warm-up, left out of the per-item statistics.
    per_image = b == 1 or calls == 1
    with carbon.phase("sample", items=n if calls == 1 else None, warmup=1 if calls >= 3 else 0) as ph:
        for _ in range(calls):
            images = sample(m, kind, steps, b)
            if calls > 1:
                ph.step()
    assert images.shape == (b, 1, *variant.image_size)
    assert torch.isfinite(images).all()
    what = f"{cfg.images:,} images ({kind.upper()}, {steps} steps{'' if per_image else f', in batches of {b}'})"
    carbon.project("sample", cfg.images if per_image else -(-cfg.images // b), what)
    _info(carbon, variant, cfg.device, cfg=cfg, batch=b, images=calls * b, projected_images=cfg.images, sampler=kind, denoising_steps=steps)


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
