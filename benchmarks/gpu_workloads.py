"""Run the LDM workloads at GPU scale and record per-step and per-image energy in docs/results.md.

Runs, on one NVIDIA GPU under ``--carbon-meter nvml+auto`` (GPU board counter, CPU/RAM by the
best meter the host has):

* ``tutorial-2d`` and ``tutorial-3d``: training until the step times' 95% interval is within
  +/-5% (each phase at most ``--max-seconds``, 30 by default), sampling at the tutorials' DDPM
  1000 / DDIM 250 / DDIM 50 steps, one image per call as the tutorials do,
* ``brain-3d`` the same way, sampling at the bundle's DDIM 50 steps,

each at its tutorial's precision (fp16 autocast) and batch, with the tutorials' autoencoder
losses (see docs/workloads.md for the perceptual network's stand-in), then writes to
``docs/results.md`` (or ``--out``) the card, driver and date, per phase: items, time, GPU and
total energy, per item with its 10th-90th percentile spread and 95% interval, precision and
batch, each projection to a full run with its interval, and the study's table beside ours
(``workloads.paper``). Estimated to take 6-8 minutes on an H100-class GPU (not yet run on one;
``--max-seconds`` shortens it).

    python benchmarks/gpu_workloads.py [--out docs/results.md] [--reports DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUNS = [
    ("tutorials", ["--workload-preset", "tutorial-2d", "--workload-preset", "tutorial-3d"]),
    ("brain-3d", ["--workload-preset", "brain-3d"]),
]


def fmt_j(j: float | None) -> str:
    from pytest_carbon.units import format_energy

    return "n/a" if j is None else str(format_energy(j))


def _ci(ci: list[float] | None, fmt=fmt_j) -> str:
    return "" if not ci else f"{fmt(ci[0])} - {fmt(ci[1])}"


def phase_rows(report: dict) -> list[str]:
    """Per phase: items, time, GPU and total energy, per item with spread and interval."""
    rows = [
        "| benchmark | phase | precision | batch | items | time | GPU energy | total energy | per item (mean) | p10 - p90 | 95% interval | steps chosen by |",
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for t in report["tests"]:
        info = t.get("info") or {}
        for p in t["phases"]:
            pi = p.get("per_item") or {}
            per = pi.get("mean_j", p.get("energy_j_per_item"))
            spread = "" if "p10_j" not in pi else f"{fmt_j(pi['p10_j'])} - {fmt_j(pi['p90_j'])}"
            rows.append(
                f"| {t['nodeid'].split('::')[-1]} | {p['name']} | {info.get('precision', '')} | {info.get('batch', '')}"
                f" | {p.get('items') or ''} | {p['duration_s']:.2f} s | {fmt_j(p['energy_j'].get('gpu:0'))}"
                f" | {fmt_j(p['energy_j']['total'])} | {fmt_j(per) if per is not None else ''} | {spread}"
                f" | {_ci(pi.get('ci95_j'))} | {info.get('steps_chosen_by', '') if p['name'].startswith('train') else ''} |"
            )
    return rows


def projection_rows(report: dict) -> list[str]:
    rows = ["| benchmark | full run | per item | energy | 95% interval | CO2eq |", "|---|---|--:|--:|--:|--:|"]
    for t in report["tests"]:
        for pr in t.get("projections") or []:
            co2 = pr.get("co2_g")
            rows.append(
                f"| {t['nodeid'].split('::')[-1]} | {pr['label']} | {fmt_j(pr.get('energy_j_per_item'))} | {fmt_j(pr.get('energy_j'))}"
                f" | {_ci(pr.get('energy_j_ci95'))} | {'?' if co2 is None else f'{co2 / 1000:.3g} kg'} |"
            )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results.md")
    ap.add_argument("--reports", type=Path, default=None, help="folder for the JSON reports")
    ap.add_argument("--max-seconds", type=float, default=30.0, help="the most time a training phase runs (default 30)")
    args = ap.parse_args()
    import pynvml
    import torch

    if not torch.cuda.is_available():
        print("gpu_workloads needs an NVIDIA GPU: torch.cuda.is_available() is False", file=sys.stderr)
        return 2
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    card, driver = pynvml.nvmlDeviceGetName(h), pynvml.nvmlSystemGetDriverVersion()
    card = card.decode() if isinstance(card, bytes) else card
    driver = driver.decode() if isinstance(driver, bytes) else driver
    reports = args.reports or Path(tempfile.mkdtemp(prefix="gpu-workloads-"))
    reports.mkdir(parents=True, exist_ok=True)

    lines = [
        "# Workload results on GPU",
        "",
        f"Card: {card}, driver {driver}, torch {torch.__version__}, {dt.date.today().isoformat()}.",
        "Meters: NVML board energy counter for the GPU; CPU and RAM by the host's best meter (see each report).",
        "Per item = the phase's energy / its items (training steps or generated images).",
        "",
    ]
    status = 0
    done: list[dict] = []
    for title, extra in RUNS:
        out = reports / f"{title.split()[0]}.json"
        cmd = [
            sys.executable, "-m", "pytest", str(ROOT / "workloads"), "--workload-device", "cuda",
            "--carbon-meter", "nvml+auto", "--carbon-json", str(out), "-m", "not ddp",
            "--workload-interval", "5", "--workload-max-seconds", str(args.max_seconds), *extra,
        ]  # fmt: skip
        print("+", " ".join(cmd), flush=True)
        rc = subprocess.run(cmd, cwd=ROOT).returncode
        if rc not in (0, 1):
            print(f"{title}: pytest exited {rc}", file=sys.stderr)
            status = 1
        if not out.exists():
            continue
        report = json.loads(out.read_text())
        done.append(report)
        lines += [f"## {title}", "", *phase_rows(report), ""]
        i = report["run"]["intensity"]
        lines += [f"Intensity {i['g_per_kwh']:.4g} g/kWh ({i['source']}).", "", *projection_rows(report), ""]
    if done:
        sys.path.insert(0, str(ROOT))
        from workloads.paper import render

        lines += ["## The study beside these runs", "", render(done, pue=1.58), ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(args.out.read_text())
    return status


if __name__ == "__main__":
    sys.exit(main())
