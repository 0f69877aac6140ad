"""Pure merge of shard reports (CI matrix jobs, one per machine or GPU) into one report.

Tests are concatenated, each tagged with its shard; totals are the exact sums of the shards'
totals; each shard's run metadata (host, meters, intensity) is kept under ``run.shards``,
because shards may run on different hardware and grids.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .results import SCHEMA
from .units import CAR_G_PER_KM


def merge(shards: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Join loaded reports ``[(name, report), ...]``; names label the shards."""
    if not shards:
        raise ValueError("nothing to merge")
    tests: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    channels: dict[str, dict[str, float]] = {}
    energy: dict[str, float] = {}
    sums = {"attributed_j": 0.0, "incomplete_j": 0.0, "unattributed_j": 0.0, "co2_g": 0.0}
    over: list[str] = []
    session_violations: list[dict[str, Any]] = []
    estimated = interrupted = False
    gaps: dict[str, float] = {}
    seen: dict[tuple[Any, Any, Any], str] = {}  # a run's identity -> the first shard name it came as
    for k, (name, rep) in enumerate(shards):
        r = rep["run"]
        # The run's id where the report has one; else, as reports written before it: the start
        # (to the second), host and arguments.
        ident = (r["id"], None, None) if r.get("id") else (r.get("started"), r.get("host"), json.dumps(r.get("argv")))
        if ident in seen:
            how = f"run id {ident[0]}" if ident[1] is None else f"started {ident[0]} on {ident[1]} with the same arguments"
            raise ValueError(f"{name} is the same run as {seen[ident]} ({how}); each shard is merged once")
        seen[ident] = name
        run = copy.deepcopy(r)
        run["shard"] = k
        run["source"] = name
        runs.append(run)
        interrupted = interrupted or bool(run.get("interrupted"))
        for t in rep["tests"]:
            t = copy.deepcopy(t)
            t["shard"] = k
            tests.append(t)
        tot = rep["totals"]
        for ch, v in tot["energy_j"].items():
            if ch != "total":
                energy[ch] = energy.get(ch, 0.0) + v
        for ch, parts in tot.get("channels", {}).items():
            acc = channels.setdefault(ch, {})
            for key, v in parts.items():
                acc[key] = acc.get(key, 0.0) + v
        for key in sums:
            sums[key] += tot[key]
        for ch, g in tot.get("gaps_s", {}).items():
            gaps[ch] = gaps.get(ch, 0.0) + g
        estimated = estimated or bool(tot.get("estimated"))
        b = rep.get("budgets") or {}
        over += b.get("tests_over_budget", [])
        session_violations += [{**d, "shard": k} for d in b.get("session_violations", [])]
    started = min(r["started"] for r in runs)
    return {
        "schema": SCHEMA,
        "run": {
            "merged": True,
            "started": started,
            "duration_s": max(r["duration_s"] for r in runs),
            "interrupted": interrupted,
            "shards": runs,
            # The first shard's fields, for readers that expect a single run's; see shards.
            "intensity": runs[0]["intensity"],
            "pue": runs[0]["pue"],
            "meters": [dict(m, shard=r["shard"]) for r in runs for m in r.get("meters", [])],
            "meter_notes": [],
            "meter_errors": [dict(e, shard=r["shard"]) for r in runs for e in r.get("meter_errors", [])],
            "hardware": runs[0].get("hardware", {}),
            "plugin": runs[0].get("plugin"),
            "git_sha": runs[0].get("git_sha"),
        },
        "tests": tests,
        "budgets": {
            "mode": (shards[0][1].get("budgets") or {}).get("mode", "off"),
            "tests_with_budget": sum((r.get("budgets") or {}).get("tests_with_budget", 0) for _, r in shards),
            "tests_over_budget": sorted(over),
            "session": None,
            "session_violations": session_violations,
        },
        "totals": {
            "energy_j": {**energy, "total": sum(energy.values())},
            **sums,
            "car_km": sums["co2_g"] / CAR_G_PER_KM,
            "channels": channels,
            "gaps_s": gaps,  # seconds without readings, summed over the shards
            "tests": len(tests),
            "estimated": estimated,
        },
    }
