"""Options, parametrisation and header of the LDM benchmark suite."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

# Deterministic cuBLAS needs this before CUDA starts (torch.use_deterministic_algorithms).
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("workloads", "LDM benchmark suite")
    g.addoption("--workload-preset", action="append", default=None, metavar="NAME",
                help="preset to run: tiny (default), tutorial-2d, tutorial-3d, brain-3d; repeatable")  # fmt: skip
    g.addoption("--workload-device", default="auto", choices=["auto", "cpu", "cuda"],
                help="device for the models (auto: cuda when available)")  # fmt: skip
    g.addoption("--workload-steps", type=int, default=None, metavar="N",
                help="cap every training and denoising step count at N, for smoke runs")  # fmt: skip
    g.addoption("--workload-data", default=None, metavar="FOLDER",
                help="train on the NIfTI/PNG files in FOLDER instead of synthetic images")  # fmt: skip
    g.addoption("--workload-train-iters", type=int, default=150_000, metavar="N",
                help="training iterations of a full run, for projections (default 150,000)")  # fmt: skip
    g.addoption("--workload-images", type=int, default=10_000, metavar="N",
                help="generated images of a full run, for projections (default 10,000)")  # fmt: skip
    g.addoption("--workload-sampler", default=None, metavar="KINDS",
                help="samplers to sweep, e.g. ddpm,ddim (default: each preset's own)")  # fmt: skip
    g.addoption("--workload-sample-steps", default=None, metavar="COUNTS",
                help="denoising step counts to sweep, e.g. 10,20,50,250,1000 (default: each preset's own)")  # fmt: skip
    g.addoption("--workload-precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"],
                help="autocast precision (auto: the preset's tutorial's, fp16, on a GPU; fp32 on a CPU and for tiny)")  # fmt: skip
    g.addoption("--workload-conditioning", default="on", choices=["on", "off"],
                help="feed the brain-3d UNet its conditioning inputs (gender, age, volumes) as the bundle"
                     " does (on, default), or run it unconditional (off)")  # fmt: skip
    g.addoption("--workload-ae-loss", default="auto", choices=["auto", "full", "l1kl"],
                help="autoencoder loss: full (L1 + KL + perceptual + adversarial, as the tutorials), l1kl,"
                     " or auto (full, except for the tiny preset)")  # fmt: skip
    g.addoption("--workload-batch", type=int, default=None, metavar="N",
                help="training batch size (default: each preset's tutorial's)")  # fmt: skip
    g.addoption("--workload-sample-batch", type=int, default=None, metavar="N",
                help="images per sampling call (default: each preset's, 1 as in the tutorials)")  # fmt: skip
    g.addoption("--workload-interval", default="auto", metavar="PCT|off|auto",
                help="train until the 95%% interval of the step times is within +/-PCT%% of the mean"
                     " (auto: 5 on a GPU, off on the CPU, where each preset's step count runs)")  # fmt: skip
    g.addoption("--workload-max-seconds", type=float, default=60.0, metavar="S",
                help="the most time a training phase runs for --workload-interval (default 60)")  # fmt: skip
    g.addoption("--workload-threads", default="auto", metavar="N|auto",
                help="torch CPU threads (auto: no more than the cores other processes leave free, so"
                     " that OpenMP threads do not spin against a neighbour's load)")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    sweep(config)  # a wrong sweep or option stops the run before collection, with the accepted values
    check_options(config)
    config.addinivalue_line("markers", "train: training benchmarks (autoencoder, diffusion, DDP)")
    config.addinivalue_line("markers", "sample: generation benchmarks (DDPM, DDIM)")
    config.addinivalue_line("markers", "ddp: distributed training under torch.distributed")


def free_cores(window_s: float = 0.25) -> float | None:
    """Cores other processes leave idle, from /proc/stat over ``window_s``; None off Linux."""
    import time

    def busy_total() -> tuple[float, float]:
        with open("/proc/stat", encoding="ascii") as f:
            v = [float(x) for x in f.readline().split()[1:9]]
        return sum(v) - v[3] - v[4], sum(v)

    try:
        b0, t0 = busy_total()
        time.sleep(window_s)
        b1, t1 = busy_total()
    except (OSError, ValueError):
        return None
    if t1 <= t0:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores * (1.0 - (b1 - b0) / (t1 - t0))


def choose_threads(option: str) -> tuple[int, str]:
    """(torch CPU threads, why): the option's number, or auto's choice."""
    import torch

    if option != "auto":
        if not option.isdigit() or int(option) < 1:
            raise pytest.UsageError(f"--workload-threads {option}: must be a whole number of threads (1 or more) or auto")
        return int(option), "--workload-threads"
    default = torch.get_num_threads()
    if os.environ.get("OMP_NUM_THREADS"):
        return default, "OMP_NUM_THREADS"
    free = free_cores()
    if free is None:
        return default, "torch's default (free cores unknown here)"
    n = max(1, min(default, int(free + 0.5)))
    return n, f"auto: {free:.1f} of {os.cpu_count()} cores free at the start"


@dataclass(frozen=True)
class Settings:
    presets: tuple[str, ...]
    device: str
    steps_cap: int | None
    data: str | None
    train_iters: int
    images: int
    threads: int = 1  # torch CPU threads
    threads_why: str = ""
    precision: str = "auto"
    seed: int = 0
    ae_loss: str = "auto"
    batch: int | None = None
    sample_batch: int | None = None
    interval: float | None = None  # relative half-width the training steps run to; None: fixed counts
    max_seconds: float = 60.0
    reading_s: float = 0.1  # the plugin's reading interval (--carbon-interval)

    def full_losses(self, v: object) -> bool:
        """Whether the autoencoder trains with the tutorials' perceptual and adversarial terms."""
        if self.ae_loss == "auto":
            return bool(getattr(v, "full_losses", False))
        return self.ae_loss == "full"

    def batch_for(self, v: object) -> int:
        return self.batch or v.batch  # type: ignore[attr-defined]

    def sample_batch_for(self, v: object) -> int:
        return self.sample_batch or v.sample_batch  # type: ignore[attr-defined]

    def until(self, v: object, least: int) -> object:
        """The step rule of a training phase (``workloads.until.Until``)."""
        from .until import Until

        warm = v.warmup_for(least)  # type: ignore[attr-defined]
        return Until(least, warm, self.interval, most=20 * least, seconds=self.max_seconds, span=10 * self.reading_s)

    def precision_for(self, v: object) -> tuple[str, str]:
        """(precision, why) for a variant: the option's, or the preset's tutorial's on a GPU."""
        if self.precision != "auto":
            return self.precision, "--workload-precision"
        own = getattr(v, "precision", "fp32")
        if own != "fp32" and self.device != "cuda":
            return "fp32", f"auto: the tutorial's {own} autocast is for GPUs; fp32 on the CPU"
        return own, "auto: the preset's tutorial's"

    def steps(self, n: int) -> int:
        return min(n, self.steps_cap) if self.steps_cap else n

    def batches(self, v: object, device: str) -> Callable[[int], object]:
        from .data import from_folder, synthetic

        shape, batch = v.image_size, self.batch_for(v)  # type: ignore[attr-defined]
        if self.data:
            return lambda i: from_folder(self.data, shape, batch, i, device)
        return lambda i: synthetic(shape, batch, self.seed * 100_000 + i, device)


def check_options(config: pytest.Config) -> None:
    """The options that need no torch, checked before collection (a usage error, exit 4)."""
    from .presets import PRESETS

    for p in config.getoption("workload_preset") or ["tiny"]:
        if p not in PRESETS:
            raise pytest.UsageError(f"--workload-preset {p}: unknown preset; known: {', '.join(PRESETS)}")
    cap = config.getoption("workload_steps")
    if cap is not None and cap < 1:
        raise pytest.UsageError(f"--workload-steps {cap}: must be 1 or more")
    data = config.getoption("workload_data")
    if data and not Path(data).is_dir():
        raise pytest.UsageError(f"--workload-data {data}: not a folder")
    for opt in ("workload_train_iters", "workload_images"):
        if config.getoption(opt) < 1:
            raise pytest.UsageError(f"--{opt.replace('_', '-')}: must be 1 or more")
    for opt in ("workload_batch", "workload_sample_batch"):
        n = config.getoption(opt)
        if n is not None and n < 1:
            raise pytest.UsageError(f"--{opt.replace('_', '-')} {n}: must be 1 or more")
    interval_option(config.getoption("workload_interval"), "cuda")
    max_s = config.getoption("workload_max_seconds")
    if not 0 < max_s < float("inf"):
        raise pytest.UsageError(f"--workload-max-seconds {max_s}: must be a positive number of seconds")


def _settings(config: pytest.Config) -> Settings:
    check_options(config)
    presets = tuple(config.getoption("workload_preset") or ["tiny"])
    cap = config.getoption("workload_steps")
    data = config.getoption("workload_data")
    device = config.getoption("workload_device")
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise pytest.UsageError("--workload-device cuda: torch sees no CUDA GPU here; use cpu or auto")
    interval = interval_option(config.getoption("workload_interval"), device)
    max_s = config.getoption("workload_max_seconds")
    threads, why = choose_threads(config.getoption("workload_threads"))
    return Settings(
        presets, device, cap, data, config.getoption("workload_train_iters"), config.getoption("workload_images"), threads, why,
        config.getoption("workload_precision"), ae_loss=config.getoption("workload_ae_loss"),
        batch=config.getoption("workload_batch"), sample_batch=config.getoption("workload_sample_batch"),
        interval=interval, max_seconds=max_s, reading_s=_reading_interval(config),
    )  # fmt: skip


def _reading_interval(config: pytest.Config) -> float:
    """The plugin's reading interval, when it is installed and given one; else its default."""
    try:
        value = config.getoption("carbon_interval")
    except ValueError:
        return 0.1
    try:
        return float(value) if value else 0.1
    except (TypeError, ValueError):
        return 0.1


def interval_option(text: str, device: str) -> float | None:
    """--workload-interval as a fraction (5 -> 0.05), or None (off; auto off the GPU)."""
    if text == "off" or (text == "auto" and device != "cuda"):
        return None
    if text == "auto":
        return 0.05
    try:
        pct = float(text)
    except ValueError:
        pct = -1.0
    if not 0 < pct < 100:
        raise pytest.UsageError(f"--workload-interval {text}: a percentage between 0 and 100 (e.g. 5), off or auto")
    return pct / 100


@pytest.fixture(scope="session")
def cfg(request: pytest.FixtureRequest) -> Settings:
    import torch

    s = _settings(request.config)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(s.threads)
    return s


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    chosen = chosen_variants(metafunc.config)
    if "variant" in metafunc.fixturenames and "sampler" in metafunc.fixturenames:
        cap = metafunc.config.getoption("workload_steps")
        # The id says the denoising steps that actually run (--workload-steps caps them); step
        # counts that the cap makes equal are one test.
        ids, cases = [], []
        for v in chosen:
            for k, n in samplers(metafunc.config, v.samplers):
                id_ = f"{v.id}-{k}{min(n, cap) if cap else n}"
                if id_ not in ids:
                    ids.append(id_)
                    cases.append((v, (k, n)))
        metafunc.parametrize(("variant", "sampler"), cases, ids=ids)
    elif "variant" in metafunc.fixturenames:
        only = getattr(metafunc.function, "variants_filter", None)
        vs = [v for v in chosen if only is None or only(v)]
        metafunc.parametrize("variant", vs, ids=[v.id for v in vs])


def _settings_presets(config: pytest.Config) -> list[str]:
    return config.getoption("workload_preset") or ["tiny"]


def sweep(config: pytest.Config) -> tuple[list[str] | None, list[int] | None]:
    """The samplers and step counts the options ask for (None: each preset's own)."""
    kinds_opt, steps_opt = config.getoption("workload_sampler"), config.getoption("workload_sample_steps")
    kinds = counts = None
    if kinds_opt is not None:
        kinds = [k.strip().lower() for k in kinds_opt.split(",")]
        if any(k not in ("ddpm", "ddim") for k in kinds):
            raise pytest.UsageError(f"--workload-sampler {kinds_opt}: samplers are ddpm and ddim, e.g. ddpm,ddim")
    if steps_opt is not None:
        try:
            counts = [int(n) for n in steps_opt.split(",")]
        except ValueError:
            counts = []
        if not counts or any(not 1 <= n <= 1000 for n in counts):
            raise pytest.UsageError(f"--workload-sample-steps {steps_opt}: whole numbers of denoising steps from 1 to 1000, e.g. 10,20,50")
    return kinds, counts


def samplers(config: pytest.Config, own: tuple[tuple[str, int], ...]) -> list[tuple[str, int]]:
    """(kind, steps) to run: the sweep the options ask for, else the preset's own samplers."""
    kinds, counts = sweep(config)
    if kinds is None and counts is None:
        return list(own)
    kinds = kinds or sorted({k for k, _ in own}, reverse=True)
    counts = counts or sorted({n for _, n in own})
    return [(k, n) for k in kinds for n in counts]


def chosen_variants(config: pytest.Config) -> list[object]:
    """The presets' variants, unconditional where --workload-conditioning off says so."""
    from .presets import variants

    vs = variants(list(_settings_presets(config)))
    if config.getoption("workload_conditioning") == "off":
        vs = [v.unconditional() for v in vs]
    return vs


def pytest_report_header(config: pytest.Config) -> list[str]:
    import torch

    from .presets import parameter_counts

    try:
        chosen = chosen_variants(config)
    except ValueError as e:
        return [f"workloads: {e}"]
    device = config.getoption("workload_device")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    lines = [f"workloads: torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {device}"]
    for v in chosen:
        ae, unet = parameter_counts(v)
        size = "x".join(map(str, v.image_size))
        latent = "x".join(map(str, (v.latent_channels, *v.latent_size)))
        lines.append(
            f"  {v.id}: {size} images, latent {latent}, autoencoder {ae / 1e6:.2f}M + UNet {unet / 1e6:.2f}M"
            f" parameters, batch {config.getoption('workload_batch') or v.batch}; {v.stands_for}"
        )
    return lines


# The study's table after the carbon summary, from the run's own report.
_REPORT: list[dict] = []


@pytest.hookimpl(optionalhook=True)
def pytest_carbon_update_json(config: pytest.Config, report: dict) -> None:
    _REPORT[:] = [report]


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: object) -> None:
    if not _REPORT:
        return
    from .paper import render

    tr = terminalreporter
    tr.write_sep("=", "the study beside this run (python -m workloads.paper REPORT.json)")  # type: ignore[attr-defined]
    tr.write(render(_REPORT))  # type: ignore[attr-defined]
