"""Peak memory of a process tree, sampled from /proc (Linux).

A Spark job here is a tree: spark-submit's JVM (the driver, with local-mode executors inside),
the Python driver it starts, and the Python workers. The sampler sums over the tree, every
``interval`` seconds, the resident size (VmRSS) and the proportional set size (Pss, which splits
pages shared between forked Python workers instead of counting them once per process), and
keeps the peaks. Without /proc (not Linux) it reports nothing.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants alive now."""
    children = _children_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _kib(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _is_python(pid: int) -> bool:
    try:
        return (PROC / str(pid) / "comm").read_text().startswith("python")
    except OSError:
        return False


def tree_memory(root: int) -> tuple[int, int, int]:
    """(sum of VmRSS, sum of Pss, VmHWM of the largest Python process but this one) of the
    tree, in bytes. The last is what a Spark executor must reserve per Python worker; WHY
    VmHWM (the process's own peak resident size): a Python worker's peak lasts less than a
    sampling interval, VmHWM keeps it."""
    rss = pss = python = 0
    for pid in process_tree(root):
        own = _kib(PROC / str(pid) / "status", "VmRSS:")
        rss += own
        pss += _kib(PROC / str(pid) / "smaps_rollup", "Pss:")
        if pid != os.getpid() and _is_python(pid):
            python = max(python, _kib(PROC / str(pid) / "status", "VmHWM:"))
    return rss * 1024, pss * 1024, python * 1024


@dataclass
class PeakMemory:
    """``with PeakMemory(pid) as peak: ...`` then ``peak.rss`` / ``peak.pss`` of the tree and
    ``peak.python`` of its largest Python process (bytes)."""

    pid: int = field(default_factory=os.getpid)
    interval: float = 0.5
    rss: int = 0
    pss: int = 0
    python: int = 0
    samples: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        if not PROC.is_dir():
            return
        rss, pss, python = tree_memory(self.pid)
        self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
        self.python = max(self.python, python)
        self.samples += 1

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def gib(n_bytes: int) -> float:
    return round(n_bytes / 2**30, 2)


def children_cpu_seconds() -> float:
    """User + system CPU time of this process's terminated (and waited-for) descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_with_peak(process, cpu_before: float, interval: float = 0.5):
    """Wait for a ``subprocess.Popen`` started after ``cpu_before = children_cpu_seconds()``;
    return (exit code, peak memory of its tree, wall seconds, CPU seconds of its tree).

    WHY CPU seconds too: on a shared machine the wall times of two runs made minutes apart
    are not comparable; the CPU time their process trees used is much less sensitive to load.
    """
    start = time.perf_counter()
    with PeakMemory(process.pid, interval) as peak:
        code = process.wait()
    seconds = time.perf_counter() - start
    return code, peak, seconds, children_cpu_seconds() - cpu_before
