"""Crawl subprocesses: a real overrunning process group is killed, crawl_runs says how it ended."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from crawlers.launch import CrawlRun, record_end
from storage.models import CrawlRunRow
from storage.runs import mark_abandoned
from yuqing.base.process import Children, ProcessResult, guarded, run_process

# A parent that starts a grandchild, both sleeping; the grandchild writes its pid for the test.
FAMILY = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1], "w").write(str(child.pid))
print("started", flush=True)
time.sleep(60)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead too
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    start = time.monotonic()
    result = run_process(
        [sys.executable, "-c", FAMILY, str(pidfile)],
        timeout=2,
        grace=2,
        log_path=tmp_path / "crawl.log",
        children=Children(),
    )
    assert result.timed_out and result.returncode is not None and result.returncode < 0
    assert time.monotonic() - start < 10
    assert "started" in result.output_tail
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(grandchild)


def test_sigterm_ignoring_process_gets_sigkill_after_grace(tmp_path: Path) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('x', flush=True); time.sleep(60)"
    result = run_process(
        [sys.executable, "-c", code], timeout=1, grace=1, log_path=tmp_path / "c.log", children=Children()
    )
    assert result.timed_out and result.returncode == -9


def test_guarded_process_runs_the_command(tmp_path: Path) -> None:
    result = run_process(
        guarded([sys.executable, "-c", "print('hello')"]),
        timeout=20,
        grace=1,
        log_path=tmp_path / "c.log",
        children=Children(),
    )
    assert result.returncode == 0 and result.output_tail == "hello"


def test_guarded_child_dies_with_its_parent(tmp_path: Path) -> None:
    """The daemon is SIGKILLed: its crawl gets SIGTERM from the kernel (PR_SET_PDEATHSIG)."""
    pidfile = tmp_path / "crawl.pid"
    crawl_code = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    parent_code = (
        "import subprocess, sys, time\n"
        "from yuqing.base.process import guarded\n"
        f"subprocess.Popen(guarded([sys.executable, '-c', {crawl_code!r}]), start_new_session=True)\n"
        "time.sleep(60)\n"
    )
    import subprocess

    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    deadline = time.monotonic() + 15
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline and parent.poll() is None, "crawl never started"
        time.sleep(0.1)
    crawl_pid = int(pidfile.read_text())
    assert alive(crawl_pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while alive(crawl_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(crawl_pid)


def test_shutdown_terminates_running_children(tmp_path: Path) -> None:
    import threading

    children = Children()
    results: list[ProcessResult] = []
    worker = threading.Thread(
        target=lambda: results.append(
            run_process(
                [sys.executable, "-c", "import time; print('go', flush=True); time.sleep(60)"],
                60,
                2,
                tmp_path / "c.log",
                children,
            )
        )
    )
    worker.start()
    while not children.procs:
        time.sleep(0.05)
    assert children.terminate_all(grace=3) == 1
    worker.join(10)
    assert results and results[0].interrupted and not results[0].timed_out
    late = run_process([sys.executable, "-c", "pass"], 10, 1, tmp_path / "d.log", children)
    assert late.returncode is None and late.interrupted  # nothing new starts while stopping


NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


def record_outcome(
    engine: Engine, source_id: str, launched: datetime, result: ProcessResult, timeout: float, now: datetime
) -> CrawlRun:
    with Session(engine) as session, session.begin():
        run = record_end(session, source_id, launched, result, timeout, now)
    assert run is not None
    return run


def rows(engine: Engine) -> list[CrawlRunRow]:
    with engine.connect() as conn:
        return list(conn.execute(select(CrawlRunRow).order_by(CrawlRunRow.id)))


def test_timeout_without_a_row_records_one(engine: Engine) -> None:
    result = ProcessResult(-15, True, False, 31.0, "")
    row = record_outcome(engine, "src", NOW, result, 30, NOW + timedelta(seconds=31))
    assert row.status == "timeout" and "killed after 30 s" in row.error_summary
    assert len(rows(engine)) == 1


def test_timeout_updates_the_running_row(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(CrawlRunRow).values(
                source_id="src", started_at=NOW + timedelta(seconds=1), status="running", items=4, new=3
            )
        )
    row = record_outcome(engine, "src", NOW, ProcessResult(-15, True, False, 31.0, ""), 30, NOW)
    assert row.status == "timeout" and row.new == 3 and len(rows(engine)) == 1


@pytest.mark.parametrize("returncode,expected", [(0, "ok"), (1, "ok")])
def test_a_finished_row_is_left_alone(engine: Engine, returncode: int, expected: str) -> None:
    with engine.begin() as conn:
        conn.execute(insert(CrawlRunRow).values(source_id="src", started_at=NOW, status="ok", new=2))
    row = record_outcome(engine, "src", NOW, ProcessResult(returncode, False, False, 3.0, "boom"), 30, NOW)
    assert row.status == expected and row.error_summary == ""


def test_crash_marks_running_row_failed_with_last_output_line(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(CrawlRunRow).values(source_id="src", started_at=NOW, status="running"))
    row = record_outcome(engine, "src", NOW, ProcessResult(1, False, False, 3.0, "Traceback\nKeyError: x"), 30, NOW)
    assert row.status == "failed" and row.error_summary.endswith("exited with 1: KeyError: x")


def test_abandoned_running_rows_become_failed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(CrawlRunRow).values(source_id="old", started_at=NOW - timedelta(hours=2), status="running"))
        conn.execute(insert(CrawlRunRow).values(source_id="new", started_at=NOW, status="running"))
    with Session(engine) as session, session.begin():
        assert mark_abandoned(session, NOW - timedelta(hours=1), NOW) == 1
    assert [r.status for r in rows(engine)] == ["failed", "running"]
