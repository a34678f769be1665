"""lib.run.progress: plain lines off a terminal, one updated line on a terminal, estimates, failures."""

from __future__ import annotations

import io
import re

import pytest

from lib.run import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture()
def clock(monkeypatch):
    """A clock the test moves by hand."""
    now = [1000.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    return now


def test_plain_lines_with_counts_elapsed_and_estimate(monkeypatch, clock):
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with progress.stage("ingest", total=4, unit="file") as stage:
        clock[0] += 10
        stage.advance(1, detail="2019: 9,100,000 rows read")
        clock[0] += 10
        progress.advance(1)  # the innermost stage, from code that was not handed it
        clock[0] += 70
    assert err.getvalue().splitlines() == [
        "[ingest] 4 files to do",
        "[ingest] 1/4 files, 10 s, ~30 s left: 2019: 9,100,000 rows read",
        "[ingest] 2/4 files, 20 s, ~20 s left",
        "[ingest] 4/4 files, 1 min 30 s: done",
    ]
    assert "\r" not in err.getvalue() and "\x1b" not in err.getvalue()


def test_failure_and_unknown_total(monkeypatch, clock):
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with pytest.raises(ValueError), progress.stage("spark", detail="starting") as stage:
        clock[0] += 5
        stage.update("still starting")
        raise ValueError
    assert err.getvalue().splitlines() == [
        "[spark] starting",
        "[spark] 5 s: still starting",
        "[spark] 5 s: failed",
    ]
    progress.advance(1)  # outside any stage: nothing happens
    progress.update("nothing")
    assert len(err.getvalue().splitlines()) == 3


def test_terminal_gets_one_line_rewritten_in_place(monkeypatch, clock):
    err = Terminal()
    monkeypatch.setattr("sys.stderr", err)
    with progress.stage("indicators", total=2, unit="year") as stage:
        clock[0] += 4
        stage.advance(1, detail="2019")
        progress.note("a message of its own")
    out = err.getvalue()
    assert out.endswith("[indicators] 2/2 years, 4 s: done\n")
    # Every state redraws the same line (carriage return, clear line), one newline per line kept.
    states = [s for s in re.split(r"\r\x1b\[2K", out) if s]
    assert states[0] == "[indicators] 0/2 years, 0 s"
    assert "[indicators] 1/2 years, 4 s, ~4 s left: 2019" in states
    assert "a message of its own\n" in states
    assert out.count("\n") == 2


def test_silenced_by_the_environment(monkeypatch, clock):
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setenv("ECX_PROGRESS", "0")
    with progress.stage("ingest", total=3, unit="file") as stage:
        stage.advance(3)
        progress.note("hidden")
    assert err.getvalue() == ""


def test_durations():
    assert progress.duration(0.4) == "0 s"
    assert progress.duration(59.4) == "59 s"
    assert progress.duration(185) == "3 min 05 s"
    assert progress.duration(3725) == "1 h 02 min"


def test_the_terminal_named_by_the_launcher(monkeypatch, tmp_path, clock):
    """spark-submit.sh names the terminal of its stderr (the driver's own stderr is a pipe)."""
    terminal = tmp_path / "tty"
    monkeypatch.setenv("ECX_PROGRESS_TERMINAL", str(terminal))
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with progress.stage("ingest", total=1, unit="file") as stage:
        stage.advance(1)
    assert err.getvalue() == ""
    assert terminal.read_text().splitlines()[-1] == "[ingest] 1/1 file, 0 s: done"
    monkeypatch.setenv("ECX_PROGRESS_TERMINAL", str(tmp_path / "missing" / "tty"))
    with progress.stage("spark"):
        pass
    assert err.getvalue().splitlines() == ["[spark] started", "[spark] 0 s: done"]


def test_tasks_marks_advance_the_stage_one_by_one(monkeypatch, clock, tmp_path):
    """What tasks mark in the watched folder advances the stage as it appears (a retried
    task's second mark counts once); the caller advances by the rest afterwards."""
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with progress.stage("indicators", total=3, unit="year"):
        with progress.finished_tasks(poll_seconds=0.01) as finished:
            clock[0] += 4
            for year in ("2019", "2020", "2020"):  # 2020's task retried
                progress.mark_finished(finished.folder, year)
        assert finished.count == 2
        progress.advance(3 - finished.count, detail="every year written")
    lines = err.getvalue().splitlines()
    assert lines[1:3] == [
        "[indicators] 1/3 years, 4 s, ~8 s left: 2019 done",
        "[indicators] 2/3 years, 4 s, ~2 s left: 2020 done",
    ]
    assert lines[-2:] == [
        "[indicators] 3/3 years, 4 s: every year written",
        "[indicators] 3/3 years, 4 s: done",
    ]
    assert not (tmp_path / "gone").exists()
    progress.mark_finished(str(tmp_path / "gone"), "2019")  # a folder this task cannot see
    assert not (tmp_path / "gone").exists()
