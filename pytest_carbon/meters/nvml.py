"""NVIDIA GPU board energy through NVML (nvidia-ml-py, imported as ``pynvml``).

Reads ``nvmlDeviceGetTotalEnergyConsumption`` (mJ since driver load; Volta and newer) of
every GPU visible to this process. Where a GPU has no energy counter, integrates
``nvmlDeviceGetPowerUsage`` (trapezoids between the sampler's reads) and says so: on recent
GPUs that power value is an average over about one second, so its cadence is 1 s.

``CUDA_VISIBLE_DEVICES`` is honoured the way CUDA reads it: indices or ``GPU-`` UUIDs
(prefixes allowed), up to the first entry that names no device. Channel ``gpu:N`` is the
N-th visible GPU, the number ``torch.device("cuda:N")`` uses.
"""

from __future__ import annotations

import os
import time
from typing import Any

from .base import COUNTER, POWER_INTEGRATED, ChannelInfo, MeterBase, MeterError, MeterUnavailable

# Measured on an H100 and an H200 (driver 580): the counter changes every ~100 ms.
COUNTER_CADENCE_S = 0.1
POWER_CADENCE_S = 1.0


# Where an NVIDIA driver shows itself on Linux: its control devices and /proc entry, or WSL2's
# GPU device. Where none exists, NVML cannot start, so auto does not pay pynvml's import.
DRIVER_PATHS = ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia", "/dev/dxg")


def driver_absent() -> bool:
    """True on a Linux machine that shows no NVIDIA driver (never where pynvml is already loaded)."""
    import sys

    if "pynvml" in sys.modules or not sys.platform.startswith("linux"):
        return False
    return not any(os.path.exists(p) for p in DRIVER_PATHS)


def _pynvml() -> Any:
    # The seam: tests put a fake module in sys.modules["pynvml"].
    import pynvml

    return pynvml


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def visible_indices(nv: Any, count: int, env: str | None) -> list[int]:
    """NVML indices of the GPUs this process sees, in CUDA's order."""
    if env is None:
        return list(range(count))
    out: list[int] = []
    uuids: list[str] | None = None
    for raw in env.split(","):
        tok = raw.strip()
        if not tok:
            break
        if tok.isdigit() or (tok.startswith("-") and tok[1:].isdigit()):
            i = int(tok)
            if i < 0 or i >= count or i in out:
                break
            out.append(i)
            continue
        if tok.startswith("MIG-"):
            raise MeterUnavailable(
                f"CUDA_VISIBLE_DEVICES names a MIG instance ({tok}); NVML reports energy per"
                " board, not per MIG slice, so it cannot be attributed. Use --carbon-meter"
                " constant:gpu:0=WATTS with a share of the board, or measure on a whole GPU"
            )
        if uuids is None:
            uuids = [_text(nv.nvmlDeviceGetUUID(nv.nvmlDeviceGetHandleByIndex(i))) for i in range(count)]
        want = tok if tok.startswith("GPU-") else "GPU-" + tok
        hits = [i for i, u in enumerate(uuids) if u.startswith(want)]
        if len(hits) != 1 or hits[0] in out:
            break
        out.append(hits[0])
    return out


class NvmlMeter(MeterBase):
    def __init__(self) -> None:
        super().__init__(name="nvml")
        self._nv: Any = None
        self._devices: list[tuple[str, Any, bool]] = []  # channel, handle, has counter
        self._power_last: dict[str, tuple[int, float]] = {}
        self._power_j: dict[str, float] = {}
        self.gpu_map: dict[str, str] = {}  # NVML index and UUID -> channel, for xdist workers' claims

    def open(self) -> None:
        try:
            nv = _pynvml()
        except ImportError as e:
            raise MeterUnavailable(f"nvidia-ml-py is not installed ({e}): pip install nvidia-ml-py") from None
        try:
            nv.nvmlInit()
        except Exception as e:  # pynvml raises NVMLError subclasses; any failure means no NVML
            raise MeterUnavailable(
                f"NVML could not start ({e}): no NVIDIA driver on this machine?"
                " Use --carbon-meter auto, which falls back to the CPU meters, or estimate",
                cause=f"no NVIDIA driver ({e})",
            ) from None
        self._nv = nv
        try:
            count = nv.nvmlDeviceGetCount()
            env = os.environ.get("CUDA_VISIBLE_DEVICES")
            indices = visible_indices(nv, count, env)
            if not indices:
                raise MeterUnavailable(
                    f"no NVIDIA GPU is visible to this process ({count} on the machine,"
                    f" CUDA_VISIBLE_DEVICES={env!r}); unset it or name a GPU, or use"
                    " --carbon-meter auto"
                )
            channels: list[ChannelInfo] = []
            for n, i in enumerate(indices):
                h = nv.nvmlDeviceGetHandleByIndex(i)
                name = _text(nv.nvmlDeviceGetName(h))
                ch = f"gpu:{n}"
                try:
                    nv.nvmlDeviceGetTotalEnergyConsumption(h)
                    has_counter = True
                except Exception:  # NVMLError_NotSupported on pre-Volta boards
                    has_counter = False
                    nv.nvmlDeviceGetPowerUsage(h)  # must work, else the meter cannot either
                self._devices.append((ch, h, has_counter))
                self.gpu_map[str(i)] = ch
                try:
                    self.gpu_map[_text(nv.nvmlDeviceGetUUID(h))] = ch
                except Exception:  # a UUID is a convenience for the mapping, not a requirement
                    pass
                note = f"NVML index {i}" + (
                    ", board energy counter"
                    if has_counter
                    else ", no energy counter: power readings (1 s averages) integrated"
                )
                channels.append(
                    ChannelInfo(
                        ch,
                        COUNTER if has_counter else POWER_INTEGRATED,
                        COUNTER_CADENCE_S if has_counter else POWER_CADENCE_S,
                        hardware=name,
                        note=note,
                    )
                )
            self.channels = channels
        except MeterUnavailable:
            self.close()
            raise
        except Exception as e:
            self.close()
            raise MeterUnavailable(f"NVML failed while listing GPUs: {e}") from None

    def read(self) -> dict[str, float]:
        nv = self._nv
        out: dict[str, float] = {}
        try:
            for ch, h, has_counter in self._devices:
                if has_counter:
                    out[ch] = nv.nvmlDeviceGetTotalEnergyConsumption(h) / 1e3
                else:
                    now = time.monotonic_ns()
                    p = nv.nvmlDeviceGetPowerUsage(h) / 1e3
                    last = self._power_last.get(ch)
                    acc = self._power_j.get(ch, 0.0)
                    if last is not None:
                        acc += (p + last[1]) / 2 * (now - last[0]) / 1e9
                    self._power_j[ch] = acc
                    self._power_last[ch] = (now, p)
                    out[ch] = acc
        except Exception as e:
            # A failed power read breaks the trapezoid chain: start it afresh after the gap.
            self._power_last.clear()
            raise MeterError(f"NVML read failed: {e}") from None
        return out

    def close(self) -> None:
        if self._nv is not None:
            try:
                self._nv.nvmlShutdown()
            except Exception:
                pass
            self._nv = None
