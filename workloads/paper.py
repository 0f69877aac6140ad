"""The study's headline table beside this suite's figures.

Seyfarth, Dar and Engelhardt 2024 ("Latent Pollution Model: The Hidden Carbon Footprint of 3D
Image Synthesis", arXiv 2407.14892) report, at 107.5 g CO2eq/km (Carbontracker's car, PUE
1.58): 2D LDM training (150,000 iterations) ~10 km, generation (10,000 images) ~160 km; 3D
LDM training ~90 km, generation ~3,345 km.

    python -m workloads.paper REPORT.json [REPORT.json ...] [--pue 1.58]

reads reports written by ``pytest workloads --carbon-json REPORT.json`` and prints, per row,
our projected energy, CO2eq and car-km (with the 95% interval where the steps give one), the
study's km and the ratio. Training is the autoencoder's and the diffusion model's projections
added together; generation has a row per sampler and step count. Comparing toy presets or a
CPU run with the study's GPU figures means nothing, and the table says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

CAR_G_PER_KM = 107.5
STUDY_PUE = 1.58
# (row, the study's km, the study's kg CO2eq)
STUDY = {
    ("training", 2): (10.0, 1.08),
    ("training", 3): (90.0, 9.68),
    ("generation", 2): (160.0, 17.2),
    ("generation", 3): (3345.0, 359.6),
}
J_PER_KWH = 3.6e6


@dataclass
class Row:
    label: str
    kind: str  # training | generation
    dims: int
    energy_j: float | None
    co2_g: float | None
    ci_j: tuple[float, float] | None
    ci_co2_g: tuple[float, float] | None
    presets: set[str]
    devices: set[str]


def _add(a: tuple[float, float] | None, b: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if a is None or b is None else (a[0] + b[0], a[1] + b[1])


def rows(reports: Sequence[dict[str, Any]], pue: float | None = None) -> list[Row]:
    """The table's rows from the reports' projections; ``pue`` rescales CO2 to that PUE."""
    train: dict[int, dict[str, Any]] = {}
    gen: dict[tuple[int, str], Row] = {}
    for report in reports:
        own_pue = float(report.get("run", {}).get("pue") or 1.0)
        scale = 1.0 if pue is None else pue / own_pue
        for t in report.get("tests", []):
            info = t.get("info") or {}
            dims, name = info.get("dims"), t.get("nodeid", "").split("::")[-1]
            if dims not in (2, 3) or info.get("world_size"):
                continue  # not a workload, or the DDP variant (its own comparison)
            for p in t.get("projections") or []:
                co2 = None if p.get("co2_g") is None else p["co2_g"] * scale
                ci_co2 = None if p.get("co2_g_ci95") is None else tuple(x * scale for x in p["co2_g_ci95"])
                ci_j = None if p.get("energy_j_ci95") is None else tuple(p["energy_j_ci95"])
                if name.startswith(("test_train_autoencoder", "test_train_diffusion")):
                    part = "autoencoder" if "autoencoder" in name else "diffusion"
                    train.setdefault(dims, {})[part] = (p.get("energy_j"), co2, ci_j, ci_co2, info, p.get("count"))
                elif name.startswith("test_sample"):
                    images = info.get("projected_images") or p["count"]
                    label = f"{dims}D generation ({images:,} images, {str(info.get('sampler', '?')).upper()} {info.get('denoising_steps', '?')} steps)"
                    gen[(dims, label)] = Row(label, "generation", dims, p.get("energy_j"), co2, ci_j, ci_co2,  # type: ignore[arg-type]
                                             {str(info.get("preset"))}, {str(info.get("device"))})  # fmt: skip
    out = []
    for dims in sorted(train):
        parts = train[dims]
        if set(parts) != {"autoencoder", "diffusion"}:
            continue  # a training row needs both halves
        (ea, ca, ija, ica, ia, na), (ed, cd, ijd, icd, idf, nd) = parts["autoencoder"], parts["diffusion"]
        energy = None if ea is None or ed is None else ea + ed
        co2 = None if ca is None or cd is None else ca + cd
        iters = f"{na:,} iterations each" if na == nd else f"{na:,} + {nd:,} iterations"
        out.append(Row(f"{dims}D training (autoencoder + diffusion, {iters})", "training", dims, energy, co2,
                       _add(ija, ijd), _add(ica, icd), {str(ia.get("preset")), str(idf.get("preset"))},
                       {str(ia.get("device")), str(idf.get("device"))}))  # fmt: skip
    out += [gen[k] for k in sorted(gen)]
    return out


def _num(x: float | None, fmt: str = "{:.3g}") -> str:
    return "n/a" if x is None else fmt.format(x)


def render(reports: Sequence[dict[str, Any]], pue: float | None = None) -> str:
    table = rows(reports, pue)
    pues = sorted({float(r.get("run", {}).get("pue") or 1.0) for r in reports})
    used = f"{pue:g} (rescaled from the reports' {', '.join(f'{p:g}' for p in pues)})" if pue else ", ".join(f"{p:g}" for p in pues)
    lines = [
        "The study (Seyfarth et al. 2024, arXiv 2407.14892) beside this run",
        f"PUE: ours {used}; the study's {STUDY_PUE:g} (pass --pue {STUDY_PUE:g} to compare like with like). Car: {CAR_G_PER_KM:g} g CO2eq/km.",
        "",
        "| row | our energy | our CO2eq | our km | the study's km | ours / study |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    toy = False
    for r in table:
        km = None if r.co2_g is None else r.co2_g / CAR_G_PER_KM
        study_km = STUDY[(r.kind, r.dims)][0]
        kwh = None if r.energy_j is None else r.energy_j / J_PER_KWH
        e = f"{_num(kwh)} kWh" + (f" [{_num(r.ci_j[0] / J_PER_KWH)}-{_num(r.ci_j[1] / J_PER_KWH)}]" if r.ci_j else "")
        c = f"{_num(None if r.co2_g is None else r.co2_g / 1000)} kg" + (
            f" [{_num(r.ci_co2_g[0] / 1000)}-{_num(r.ci_co2_g[1] / 1000)}]" if r.ci_co2_g else ""
        )
        ratio = None if km is None else km / study_km
        lines.append(f"| {r.label} | {e} | {c} | {_num(km)} | {study_km:,.0f} | {_num(ratio)}x |")
        toy = toy or "tiny" in r.presets or "cpu" in r.devices
    if not table:
        lines.append("| (no training pair or sampling test with projections in these reports) | | | | | |")
    lines.append("")
    for report in reports[:1]:
        w = report.get("whatif") or {}
        if w.get("cleanest") and w.get("dirtiest"):
            lines.append(
                f"Location: the same energy emits {w['ratio']:.1f}x more in {w['dirtiest']['zone']} than in"
                f" {w['cleanest']['zone']} (the study: up to 94x)."
            )
        months = (w.get("months") or {}).get("values") or []
        if months:
            lo = min(months, key=lambda m: m["g_per_kwh"])
            hi = max(months, key=lambda m: m["g_per_kwh"])
            lines.append(
                f"Season: in {w['months'].get('zone')}, {hi['name']} emits {hi['g_per_kwh'] / lo['g_per_kwh']:.2f}x"
                f" what {lo['name']} does (the study: up to 1.5x)."
            )
    if toy:
        lines.append(
            "These are toy figures: the tiny preset, or a CPU, does not do the study's work, so the"
            " ratios say nothing about it; run the GPU presets for a comparison."
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m workloads.paper", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="+", help="JSON reports of pytest workloads --carbon-json")
    ap.add_argument("--pue", type=float, default=None, help=f"rescale our CO2 to this PUE (the study's: {STUDY_PUE:g})")
    args = ap.parse_args(argv)
    if args.pue is not None and not 1.0 <= args.pue <= 10.0:
        print(f"--pue {args.pue:g}: a number from 1.0 to 10.0", file=sys.stderr)
        return 4
    reports = []
    for path in args.reports:
        try:
            reports.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            print(f"{path}: not a readable JSON report ({e})", file=sys.stderr)
            return 4
    print(render(reports, args.pue), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
