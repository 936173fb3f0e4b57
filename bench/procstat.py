"""What the benchmarks read of this machine's processes from /proc: the CPU a set of
processes used (the gunicorn workers, the PostgreSQL backends serving them, the Redis server)
and which process is the Redis server. Linux only, as the benchmarks are."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds of PIDS so far (those still running)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def redis_server_pids() -> set[int]:
    """The redis-server processes running on this machine (none when Redis runs elsewhere)."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() == "redis-server":
                found.add(int(proc.name))
        except OSError:
            continue
    return found
