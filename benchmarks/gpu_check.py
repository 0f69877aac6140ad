"""Check the NVML meter against the GPU's energy counter read directly, on a real GPU.

Writes a small suite of tests of known length (0.3 s, 1 s and 5 s of matrix work, and 1 s
idle), runs it under ``pytest --carbon --carbon-meter nvml``, and compares each test's
``work`` phase energy (from the plugin's sampler, interpolated) with the difference of two
direct ``nvmlDeviceGetTotalEnergyConsumption`` reads taken inside the same phase, around the
same code. Prints one row per test with the error, plus the card, driver and date.

Target: within 2% for tests of 1 s and more. Needs torch with CUDA and nvidia-ml-py.

    python benchmarks/gpu_check.py [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

SUITE = '''
import json, os, time
import pynvml
import pytest
import torch

pynvml.nvmlInit()
# The plugin numbers visible GPUs as CUDA does; with one GPU visible, gpu:0 is this handle.
_visible = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0] or "0"
HANDLE = pynvml.nvmlDeviceGetHandleByIndex(int(_visible) if _visible.isdigit() else 0)
OUT = os.environ["GPU_CHECK_DIRECT"]


def direct_mj():
    return pynvml.nvmlDeviceGetTotalEnergyConsumption(HANDLE)


def matmul_for(seconds):
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    torch.cuda.synchronize()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(4):
            a @ b
        torch.cuda.synchronize()


@pytest.mark.parametrize("seconds", [0.3, 1.0, 5.0, "idle"])
def test_work(carbon, seconds):
    with carbon.phase("work"):
        torch.cuda.synchronize()
        e0, t0 = direct_mj(), time.monotonic()
        if seconds == "idle":
            time.sleep(1.0)
        else:
            matmul_for(seconds)
        torch.cuda.synchronize()
        e1, t1 = direct_mj(), time.monotonic()
    with open(OUT, "a") as f:
        f.write(json.dumps({"seconds": str(seconds), "direct_j": (e1 - e0) / 1e3, "direct_s": t1 - t0}) + "\\n")
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="folder for the report, timeline and results")
    args = ap.parse_args()
    try:
        import pynvml
        import torch
    except ImportError as e:
        print(f"gpu_check needs torch and nvidia-ml-py: {e}", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("gpu_check needs an NVIDIA GPU: torch.cuda.is_available() is False", file=sys.stderr)
        return 2
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    card = pynvml.nvmlDeviceGetName(h)
    driver = pynvml.nvmlSystemGetDriverVersion()
    card = card.decode() if isinstance(card, bytes) else card
    driver = driver.decode() if isinstance(driver, bytes) else driver

    out = args.out or Path(tempfile.mkdtemp(prefix="gpu-check-"))
    out.mkdir(parents=True, exist_ok=True)
    suite = Path(tempfile.mkdtemp(prefix="gpu-suite-"))
    (suite / "test_gpu_check.py").write_text(textwrap.dedent(SUITE))
    (suite / "pytest.ini").write_text("[pytest]\n")
    direct = out / "direct.jsonl"
    direct.unlink(missing_ok=True)
    report_path = out / "gpu_check_report.json"
    cmd = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--carbon", "--carbon-meter", "nvml",
        "--carbon-json", str(report_path), "--carbon-record", str(out / "gpu_check_timeline.json"),
    ]  # fmt: skip
    env = {**os.environ, "GPU_CHECK_DIRECT": str(direct), "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "0")}
    proc = subprocess.run(cmd, cwd=suite, env=env)
    if proc.returncode != 0:
        print(f"the check suite failed (exit {proc.returncode})", file=sys.stderr)
        return 1
    report = json.loads(report_path.read_text())
    rows = [json.loads(line) for line in direct.read_text().splitlines()]
    print(f"\ncard: {card}, driver {driver}, {dt.date.today().isoformat()}")
    print("| test | phase time | plugin J | direct J | error | plugin W | flags |")
    print("|---|---|---|---|---|---|---|")
    worst_long = 0.0
    for test, row in zip(report["tests"], rows):
        phase = test["phases"][0]
        plugin_j = phase["energy_j"]["gpu:0"]
        err = None if plugin_j is None else (plugin_j - row["direct_j"]) / row["direct_j"]
        if err is not None and row["seconds"] != "0.3":
            worst_long = max(worst_long, abs(err))
        flags = ("approximate " if phase["approximate"] else "") + ("gap" if phase["gaps_s"] else "")
        print(
            f"| {row['seconds']} s | {phase['duration_s']:.3f} s | {plugin_j:.2f} | {row['direct_j']:.2f} |"
            f" {'?' if err is None else f'{err:+.2%}'} | {plugin_j / phase['duration_s']:.0f} | {flags} |"
        )
    print(f"\nworst error for tests of 1 s and more: {worst_long:.2%} (target: within 2%)")
    return 0 if worst_long <= 0.02 else 1


if __name__ == "__main__":
    sys.exit(main())
