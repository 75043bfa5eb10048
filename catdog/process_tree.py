"""How much memory and CPU time a process tree uses, from /proc (Linux): for the figures.

Proportional set size (PSS) splits pages shared between processes (gunicorn
workers forked from one parent) among them, so a tree's sum counts each page
once; where ``smaps_rollup`` is missing, resident set size (RSS) is used.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PROC = Path("/proc")


def tree_pids(root: int) -> list[int]:
    """``root`` and every live descendant."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def process_bytes(pid: int) -> int:
    """The PSS (else RSS) of one process in bytes; 0 once it is gone."""
    for path, key in (
        (PROC / str(pid) / "smaps_rollup", "Pss:"),
        (PROC / str(pid) / "status", "VmRSS:"),
    ):
        try:
            for line in path.read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        except OSError:
            continue
    return 0


def tree_bytes(root: int) -> int:
    return sum(process_bytes(pid) for pid in tree_pids(root))


def tree_cpu_seconds(root: int) -> float:
    """User plus system CPU time of the live processes of the tree so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in tree_pids(root):
        try:
            fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


class PeakSampler:
    """Samples a process tree's memory in a thread; ``peak`` is the highest seen."""

    def __init__(self, root: int, interval_s: float = 0.05) -> None:
        self._root = root
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> PeakSampler:
        self.peak = tree_bytes(self._root)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.peak = max(self.peak, tree_bytes(self._root))

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.peak = max(self.peak, tree_bytes(self._root))
