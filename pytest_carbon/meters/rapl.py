"""CPU package and DRAM energy from Linux powercap (RAPL) counters.

Reads ``/sys/class/powercap/intel-rapl:N/energy_uj`` (packages, AMD too) and their ``dram``
subdomains. Counters wrap at ``max_energy_range_uj``; a reading below the previous one is
taken as one wrap (the sampler reads far more often than the counters wrap: minutes at full
load).
"""

from __future__ import annotations

from pathlib import Path

from .base import COUNTER, ChannelInfo, MeterBase, MeterError, MeterUnavailable

# The seam for tests: point it at a fake sysfs tree.
POWERCAP_ROOT = Path("/sys/class/powercap")

# RAPL counters update about every 1 ms.
RAPL_CADENCE_S = 0.001


class _Domain:
    def __init__(self, path: Path, channel: str):
        self.path = path
        self.channel = channel
        self.max_uj = int((path / "max_energy_range_uj").read_text())
        self.last_uj: int | None = None
        self.total_uj = 0

    def read(self) -> float:
        uj = int((self.path / "energy_uj").read_text())
        if self.last_uj is not None:
            d = uj - self.last_uj
            if d < 0:
                d += self.max_uj
            self.total_uj += d
        self.last_uj = uj
        return self.total_uj / 1e6


class RaplMeter(MeterBase):
    def __init__(self) -> None:
        super().__init__(name="rapl", cheap=True)
        self._domains: list[_Domain] = []

    def open(self) -> None:
        root = POWERCAP_ROOT
        packages = sorted(root.glob("intel-rapl:[0-9]*")) if root.is_dir() else []
        packages = [p for p in packages if p.name.count(":") == 1]
        if not packages:
            raise MeterUnavailable(
                f"no RAPL energy counters under {root} (not an Intel/AMD Linux host, or a VM"
                " that hides them); use --carbon-meter estimate, or auto to fall back by itself",
                cause=f"no RAPL counters under {root}",
            )
        domains: list[_Domain] = []
        try:
            for pkg in packages:
                domains.append(_Domain(pkg, "cpu"))
                for sub in sorted(pkg.glob(f"{pkg.name}:*")):
                    if (sub / "name").read_text().strip() == "dram":
                        domains.append(_Domain(sub, "dram"))
            for d in domains:
                d.read()
        except PermissionError as e:
            raise MeterUnavailable(
                f"RAPL counters are not readable: {e}. Since Linux 5.10 energy_uj is root-only;"
                " grant read access (sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj"
                " /sys/class/powercap/intel-rapl:*:*/energy_uj) or use --carbon-meter estimate",
                cause=f"RAPL counters not readable ({e})",
            ) from None
        except (OSError, ValueError) as e:
            raise MeterUnavailable(f"RAPL counters under {root} could not be read: {e}") from None
        self._domains = domains
        names = sorted({d.channel for d in domains})
        self.channels = [
            ChannelInfo(
                ch,
                COUNTER,
                RAPL_CADENCE_S,
                note=f"{sum(d.channel == ch for d in domains)} RAPL domain(s)",
            )
            for ch in names
        ]

    def read(self) -> dict[str, float]:
        out: dict[str, float] = {}
        try:
            for d in self._domains:
                out[d.channel] = out.get(d.channel, 0.0) + d.read()
        except (OSError, ValueError) as e:
            raise MeterError(f"RAPL read failed: {e}") from None
        return out
