"""Process CPU and memory of the whole server, for the multiprocess `/metrics`.

prometheus-client's process collector reads only the process it runs in, and the multiprocess
exposition leaves it out, so with several workers `process_cpu_seconds_total` and
`process_resident_memory_bytes` vanished. `ServerProcessCollector` exports both, under the
standard names and types, summed over the server: the workers that share the metrics directory
(its files are named `<kind>_<pid>.db`) and the supervisor that started them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import psutil
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

_METRIC_FILE_PID = re.compile(r"_(\d+)\.db$")


def metric_file_pids(metrics_dir: str | Path) -> set[int]:
    """Pids that have written metric files into `metrics_dir` (live or not)."""
    pids = set()
    for entry in os.scandir(metrics_dir):
        if match := _METRIC_FILE_PID.search(entry.name):
            pids.add(int(match.group(1)))
    return pids


def server_processes(metrics_dir: str | Path) -> list[psutil.Process]:
    """This worker, its sibling workers and their supervisor.

    A sibling counts only if it writes to the same metrics directory, and the parent only if
    some sibling does: a lone process run under a shell must not add up the shell's children."""
    me = psutil.Process()
    try:
        parent = me.parent()
        children = parent.children() if parent is not None else []
    except psutil.Error:  # the supervisor exited; this worker is on its own
        return [me]
    writers = metric_file_pids(metrics_dir)
    siblings = [child for child in children if child.pid != me.pid and child.pid in writers]
    return [parent, me, *siblings] if parent is not None and siblings else [me]


class ServerProcessCollector(Collector):
    """`process_cpu_seconds_total` and `process_resident_memory_bytes` of the whole server."""

    def __init__(self, metrics_dir: str | Path) -> None:
        self.metrics_dir = metrics_dir

    def describe(self) -> Iterator[Metric]:
        """The families `collect` yields, without reading any process."""
        return _families(0.0, 0)

    def collect(self) -> Iterator[Metric]:
        cpu_seconds = 0.0
        resident_bytes = 0
        for process in server_processes(self.metrics_dir):
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    memory = process.memory_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue  # a worker that exited between listing and reading
            cpu_seconds += times.user + times.system
            resident_bytes += memory.rss
        return _families(cpu_seconds, resident_bytes)


def _families(cpu_seconds: float, resident_bytes: int) -> Iterator[Metric]:
    yield CounterMetricFamily(
        "process_cpu_seconds",
        "Total user and system CPU time spent in seconds.",
        value=cpu_seconds,
    )
    yield GaugeMetricFamily(
        "process_resident_memory_bytes", "Resident memory size in bytes.", value=resident_bytes
    )
