"""Run the LDM workloads at GPU scale and record per-step and per-image energy in docs/results.md.

Runs, on one NVIDIA GPU under ``--carbon-meter nvml+auto`` (GPU board counter, CPU/RAM by the
best meter the host has):

* ``tutorial-2d`` and ``tutorial-3d`` in full (training steps and DDPM 1000 / DDIM 250 / DDIM 50),
* ``brain-3d`` shortened with ``--workload-steps 10`` (DDIM 10 steps instead of 50),

then writes a markdown table of each benchmark's energy per training step and per generated
image, with the card, driver and date, to ``docs/results.md`` (or ``--out``). Meant to fit in
10 minutes on an H100-class GPU.

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
    ("brain-3d (steps capped at 10)", ["--workload-preset", "brain-3d", "--workload-steps", "10"]),
]


def fmt_j(j: float | None) -> str:
    if j is None:
        return "?"
    return f"{j:.3g} J" if j < 3600 else f"{j / 3600:.3g} Wh"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results.md")
    ap.add_argument("--reports", type=Path, default=None, help="folder for the JSON reports")
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
    for title, extra in RUNS:
        out = reports / f"{title.split()[0]}.json"
        cmd = [
            sys.executable, "-m", "pytest", str(ROOT / "workloads"), "--workload-device", "cuda",
            "--carbon-meter", "nvml+auto", "--carbon-json", str(out), "-m", "not ddp", *extra,
        ]  # fmt: skip
        print("+", " ".join(cmd), flush=True)
        rc = subprocess.run(cmd, cwd=ROOT).returncode
        if rc not in (0, 1):
            print(f"{title}: pytest exited {rc}", file=sys.stderr)
            status = 1
        if not out.exists():
            continue
        report = json.loads(out.read_text())
        lines += [f"## {title}", "", "| benchmark | phase | items | time | GPU energy | total energy | per item | CO2eq per item |", "|---|---|---|---|---|---|---|---|"]
        for t in report["tests"]:
            for p in t["phases"]:
                gpu = p["energy_j"].get("gpu:0")
                per = p.get("energy_j_per_item")
                co2 = p.get("co2_g_per_item")
                lines.append(
                    f"| {t['nodeid'].split('::')[-1]} | {p['name']} | {p.get('items') or ''} | {p['duration_s']:.2f} s"
                    f" | {fmt_j(gpu)} | {fmt_j(p['energy_j']['total'])} | {fmt_j(per)} | {'' if co2 is None else f'{co2:.3g} g'} |"
                )
        i = report["run"]["intensity"]
        lines += ["", f"Intensity {i['g_per_kwh']:.4g} g/kWh ({i['source']}).", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(args.out.read_text())
    return status


if __name__ == "__main__":
    sys.exit(main())
