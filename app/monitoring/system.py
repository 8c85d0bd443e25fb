"""CPU, memory and disk use of the machine or, inside a container, of its cgroup limits.

Inside a container psutil reports the host; the limits that matter are the cgroup's. cgroup v2
(`memory.max`, `cpu.max`, `cpu.stat`) and v1 (`memory/memory.limit_in_bytes`,
`cpu/cpu.cfs_quota_us`, `cpuacct/cpuacct.usage`) are both read; without a limit the psutil
figure is used.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 writes "no limit" as a huge number rounded to the page size.
_UNLIMITED = 1 << 60


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except (OSError, ValueError):
        return None
    return int(text) if text.isdigit() else None


@dataclass(frozen=True, slots=True)
class Usage:
    percent: float
    source: str  # "cgroup" or "host"
    limit: float | None = None  # bytes or CPUs, when a cgroup limit applies


class SystemSampler:
    """Reads usage; CPU use is the average since the previous call (no blocking interval)."""

    def __init__(self, root: Path = CGROUP_ROOT) -> None:
        self.root = root
        self.v2 = (root / "cgroup.controllers").exists()
        self._last_cpu: tuple[float, int] | None = None
        psutil.cpu_percent(interval=None)  # prime psutil's own since-last-call measurement

    def memory(self) -> Usage:
        if self.v2:
            limit = _read_int(self.root / "memory.max")
            used = _read_int(self.root / "memory.current")
        else:
            limit = _read_int(self.root / "memory" / "memory.limit_in_bytes")
            used = _read_int(self.root / "memory" / "memory.usage_in_bytes")
        if limit and used is not None and limit < _UNLIMITED:
            return Usage(round(100 * used / limit, 2), "cgroup", float(limit))
        return Usage(psutil.virtual_memory().percent, "host")

    def cpu_limit(self) -> float | None:
        """CPUs the cgroup may use, or None without a quota."""
        if self.v2:
            try:
                max_text, period_text = (self.root / "cpu.max").read_text().split()
            except (OSError, ValueError):
                return None
            return None if max_text == "max" else int(max_text) / int(period_text)
        quota = _read_int(self.root / "cpu" / "cpu.cfs_quota_us")  # -1 (no quota) reads None
        period = _read_int(self.root / "cpu" / "cpu.cfs_period_us")
        return quota / period if quota and period else None

    def _cgroup_cpu_ns(self) -> int | None:
        if self.v2:
            try:
                for line in (self.root / "cpu.stat").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "usage_usec":
                        return int(value) * 1000
            except (OSError, ValueError):
                return None
            return None
        return _read_int(self.root / "cpuacct" / "cpuacct.usage")

    def cpu(self) -> Usage:
        limit = self.cpu_limit()
        used_ns = self._cgroup_cpu_ns() if limit else None
        if limit and used_ns is not None:
            now = time.monotonic()
            last, self._last_cpu = self._last_cpu, (now, used_ns)
            if last is None or now <= last[0]:
                return Usage(0.0, "cgroup", limit)
            busy = (used_ns - last[1]) / 1e9 / (now - last[0])
            return Usage(round(min(100.0, 100 * busy / limit), 2), "cgroup", limit)
        return Usage(psutil.cpu_percent(interval=None), "host", float(os.cpu_count() or 1))

    def disk(self, path: str) -> Usage:
        return Usage(psutil.disk_usage(path).percent, "host")
