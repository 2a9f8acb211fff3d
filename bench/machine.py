"""Facts about the machine a run happened on, printed next to every figure."""
from __future__ import annotations

import os
import platform
import shutil


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return float("nan")


def machine_facts(pg_version: str) -> dict:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": cores,
        "ram_gib": _ram_gib(),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "os": f"{platform.system()} {platform.release()}",
        "pgbench": bool(shutil.which("pgbench")),
        # the machines are shared: a high load at the start says the absolute figures are noisy
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def machine_short(facts: dict) -> str:
    return f"{facts['cores']}c/{facts['ram_gib']:.0f}G, PG {str(facts['postgresql']).split()[0]}"
