"""Progress of a job's stages on stderr: counts, elapsed time and an estimate of what is left.

    from lib import progress

    with progress.stage("ingest", total=len(files), unit="file") as p:
        for batch in batches:
            ...
            p.advance(len(batch), detail="2019: 9.1 M rows")

Code deeper down reports to the innermost open stage without being handed it:
``progress.advance(1, detail=...)`` (a no-op outside any stage). ``progress.note(text)`` prints
a line of its own.

On a terminal a stage is one line updated in place, whose clock keeps ticking while Spark
works; elsewhere (CI logs, pipes, files) each step is a plain line. Progress goes to stderr
(under ``spark-submit.sh``, straight to the terminal of its stderr, see ``_stream``); stdout
stays for the job's results. WHY marks in a folder: executors' tasks cannot report to the driver through public Spark APIs
(the jobs also run through Spark Connect). Where the tasks share the driver's file system (local
mode, one machine), each task marks the file or year it finished in a folder the driver watches
(``finished_tasks``, ``mark_finished``), and the stage advances file by file, year by year; on a
cluster the executors do not see that folder, mark nothing, and a stage advances when the Spark
action the driver submitted returns (per batch of files, per table committed).
``ECX_PROGRESS=0`` silences it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_lock = threading.RLock()
_stack: list[Stage] = []


def duration(seconds: float) -> str:
    """12 s, 3 min 05 s, 1 h 02 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 or not unit else f"{n} {unit}s"


def _enabled() -> bool:
    return os.environ.get("ECX_PROGRESS", "1") != "0"


_terminals: dict[str, TextIO | None] = {}


def _stream() -> TextIO:
    """Where progress goes: the terminal ``spark-submit.sh`` names in ECX_PROGRESS_TERMINAL, or
    sys.stderr (looked up at each call: tests and notebooks replace it). WHY the variable:
    spark-submit runs the Python driver with its stderr merged into the JVM's stdout, a pipe;
    written there, progress could neither tell a terminal nor stay out of redirected results."""
    path = os.environ.get("ECX_PROGRESS_TERMINAL")
    if path:
        if path not in _terminals:
            try:
                _terminals[path] = open(path, "w", encoding="utf-8", errors="replace")  # noqa: SIM115 (open for the run)
            except OSError:
                _terminals[path] = None
        terminal = _terminals[path]
        if terminal is not None:
            return terminal
    return sys.stderr


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Stage:
    """One stage of a job: ``done`` of ``total`` units (total may be unknown), since ``start``."""

    def __init__(
        self, name: str, total: int | None, unit: str, detail: str, stream: TextIO
    ) -> None:
        self.name, self.total, self.unit = name, total, unit
        self.done = 0
        self.detail = detail
        self.start = time.monotonic()
        self._stream = stream
        self._tty = _is_tty(stream)
        self._ticker: threading.Thread | None = None
        self._stopped = threading.Event()
        self._finished = False

    # --- what callers use ---------------------------------------------------------------

    def advance(self, n: int = 1, detail: str = "") -> None:
        """``n`` more units are finished; ``detail`` says what (shown with the counts)."""
        with _lock:
            self.done += n
            self.detail = detail
            self._show(final=False)

    def update(self, detail: str) -> None:
        """What the stage is doing now, without finishing a unit."""
        with _lock:
            self.detail = detail
            self._show(final=False)

    # --- rendering ----------------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float | None:
        """Seconds left at the pace so far (None before the first unit or without a total)."""
        if self._finished or not self.total or not self.done or self.done >= self.total:
            return None
        return self.elapsed / self.done * (self.total - self.done)

    def line(self) -> str:
        parts = []
        if self.total is not None:
            parts.append(f"{self.done}/{_plural(self.total, self.unit)}")
        elif self.done:
            parts.append(_plural(self.done, self.unit))
        parts.append(duration(self.elapsed))
        left = self.remaining()
        if left is not None:
            parts.append(f"~{duration(left)} left")
        text = f"[{self.name}] " + ", ".join(parts)
        return f"{text}: {self.detail}" if self.detail else text

    def _show(self, final: bool) -> None:
        if self._tty:
            width = _width()
            text = self.line()
            if len(text) > width - 1:
                text = text[: width - 2] + "…"
            self._stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            self._stream.write(self.line() + "\n")
        self._stream.flush()

    def _open(self) -> None:
        with _lock:
            if self._tty:
                self._show(final=False)
                self._ticker = threading.Thread(target=self._tick, daemon=True)
                self._ticker.start()
            else:
                self._stream.write(f"[{self.name}] {self._opening()}\n")
                self._stream.flush()

    def _opening(self) -> str:
        if self.detail:
            return self.detail
        if self.total is not None:
            return f"{_plural(self.total, self.unit)} to do"
        return "started"

    def _tick(self) -> None:
        """Refresh the terminal line every second: the clock moves while Spark works."""
        while not self._stopped.wait(1.0):
            with _lock:
                if _stack and _stack[-1] is self:
                    self._show(final=False)

    def _close(self, failed: bool) -> None:
        self._stopped.set()
        with _lock:
            if self.total is not None and not failed:
                self.done = max(self.done, self.total)
            self.detail = "failed" if failed else "done"
            self._finished = True
            self._show(final=True)


def _width() -> int:
    try:
        columns = os.get_terminal_size(_stream().fileno()).columns
    except (OSError, ValueError, AttributeError):
        columns = 0
    return columns if columns >= 20 else 100  # a pseudo-terminal may report 0 columns


class _Silent(Stage):
    """ECX_PROGRESS=0: a stage that writes nothing."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self._tty = False

    def _show(self, final: bool) -> None:
        pass

    def _open(self) -> None:
        pass


@contextmanager
def stage(
    name: str, total: int | None = None, unit: str = "step", detail: str = ""
) -> Iterator[Stage]:
    """A stage of the job: ``total`` units (None: unknown), ``detail`` what it does. Its line
    says what it does, each advance, then done (or failed) with the time it took."""
    stream = _stream()
    current = (Stage if _enabled() else _Silent)(name, total, unit, detail, stream)
    with _lock:
        if _stack and _stack[-1]._tty:  # the outer stage's line stays as it was
            stream.write("\n")
        _stack.append(current)
    current._open()
    failed = True
    try:
        yield current
        failed = False
    finally:
        current._close(failed)
        with _lock:
            _stack.remove(current)


def advance(n: int = 1, detail: str = "") -> None:
    """Advance the innermost open stage (nothing happens outside a stage)."""
    if _stack:
        _stack[-1].advance(n, detail)


def update(detail: str) -> None:
    """Say what the innermost open stage is doing now."""
    if _stack:
        _stack[-1].update(detail)


def note(text: str) -> None:
    """A line of its own on stderr (on a terminal, below the stage's line)."""
    if not _enabled():
        return
    with _lock:
        stream = _stream()
        if _stack and _stack[-1]._tty:
            stream.write("\r\x1b[2K" + text + "\n")
            _stack[-1]._show(final=False)
        else:
            stream.write(text + "\n")
        stream.flush()


class FinishedTasks:
    """The marks tasks left in ``folder`` so far (``finished_tasks``)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.seen: set[str] = set()

    @property
    def count(self) -> int:
        return len(self.seen)

    def collect(self, stage: Stage | None) -> None:
        try:
            names = sorted(os.listdir(self.folder))
        except OSError:
            return
        for name in names:
            if name not in self.seen:
                self.seen.add(name)
                if stage is not None:
                    stage.advance(1, detail=f"{name} done")


@contextmanager
def finished_tasks(poll_seconds: float = 0.5) -> Iterator[FinishedTasks]:
    """A folder for the tasks of one Spark action to mark what they finish (``mark_finished``,
    handed ``.folder``); while the action runs, each new mark advances the innermost stage by
    one. Afterwards ``.count`` says how many were marked, so the caller advances the stage by
    the rest (all of them on a cluster, whose executors do not see the folder)."""
    stage_ = _stack[-1] if _stack else None
    tracker = FinishedTasks(tempfile.mkdtemp(prefix="ecx-progress-"))
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(poll_seconds):
            tracker.collect(stage_)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield tracker
    finally:
        stop.set()
        watcher.join()
        tracker.collect(stage_)
        shutil.rmtree(tracker.folder, ignore_errors=True)


def mark_finished(folder: str | None, label: str) -> None:
    """In a task: mark ``label`` (a file's year, a year) finished in the driver's folder, if
    this task can see it. A retried task marks the same label again: counted once."""
    if folder and os.path.isdir(folder):
        try:
            with open(os.path.join(folder, label), "w"):
                pass
        except OSError:  # progress is a courtesy: never fail a task for it
            pass
