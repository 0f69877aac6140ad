"""Diffusion training under torch.distributed (DDP): gloo on CPUs, NCCL on GPUs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch


def _worker(
    rank: int, world: int, init_file: str, preset: str, dims: int, steps: int, device_kind: str, seed: int, data: str | None = None
) -> None:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    from .data import from_folder, synthetic
    from .ldm import build, set_scale_factor, train_diffusion
    from .presets import PRESETS

    cuda = device_kind == "cuda"
    dist.init_process_group("nccl" if cuda else "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        if cuda:
            torch.cuda.set_device(rank)
        else:  # share the cores instead of oversubscribing them
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
        device = torch.device(f"cuda:{rank}" if cuda else "cpu")
        v = PRESETS[preset][dims]
        m = build(v, device, seed)  # the same seed on every rank: the same initial weights
        ddp = DDP(m.unet, device_ids=[rank] if cuda else None)

        def make(i: int) -> torch.Tensor:
            if data:  # each rank its own share of the files
                return from_folder(data, v.image_size, v.batch, i * world + rank, device)
            return synthetic(v.image_size, v.batch, seed * 100_000 + rank * 1_000 + i, device)

        prepared = [make(i) for i in range(steps)]  # outside the timed loop, as in one process
        set_scale_factor(m, prepared[0])
        dist.barrier()  # every rank ready: the training window starts together
        start = time.monotonic_ns()
        train_diffusion(m, prepared.__getitem__, steps, unet=ddp)
        dist.barrier()
        end = time.monotonic_ns()
        Path(init_file).with_name(f"rank{rank}.json").write_text(json.dumps({"start_ns": start, "end_ns": end}))
    finally:
        dist.destroy_process_group()


def available(device_kind: str, world: int) -> str | None:
    """None when DDP with ``world`` processes can run here, else the reason it cannot."""
    import torch.distributed as dist

    if not dist.is_available():
        return "this torch build has no torch.distributed"
    if device_kind == "cuda":
        if not dist.is_nccl_available():
            return "this torch build has no NCCL backend"
        if torch.cuda.device_count() < world:
            return f"DDP on GPUs needs {world} GPUs, this machine has {torch.cuda.device_count()}"
    elif not dist.is_gloo_available():
        return "this torch build has no gloo backend"
    return None


def train(
    preset: str, dims: int, steps: int, device_kind: str, tmp: Path, world: int = 2, seed: int = 0, data: str | None = None
) -> tuple[int, int]:
    """Spawn ``world`` processes that train the preset's diffusion UNet for ``steps`` steps.

    Returns the training loop's (start, end) on ``time.monotonic_ns()``'s clock, which all
    processes of a Linux machine share: from the first rank's start to the last rank's end,
    without the processes' start-up.
    """
    import torch.multiprocessing as mp

    init_file = str(tmp / "ddp_init")
    mp.spawn(_worker, args=(world, init_file, preset, dims, steps, device_kind, seed, data), nprocs=world, join=True)
    spans = [json.loads((tmp / f"rank{r}.json").read_text()) for r in range(world)]
    return min(s["start_ns"] for s in spans), max(s["end_ns"] for s in spans)
