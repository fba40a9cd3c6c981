"""Shared by the benchmarks: Django set-up, timing, and a report of the machine they ran on."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from collections.abc import Callable


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("REELGRAPH_VAR_DIR", "var/bench")
    import django

    django.setup()


def median_seconds(action: Callable[[], object], runs: int = 7, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of `runs` calls after `warmup` untimed ones, and every sample."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), samples


def percentile(samples, fraction: float) -> float:
    """The sample below which `fraction` of them lie (nearest rank): 0.95 gives the p95."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    return (
        f"{os.cpu_count()} CPU(s) {model}, Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
