"""Hot reload waits until an edit has stopped changing: a file caught half-written by one poll is
neither applied nor refused, the finished edit is handled once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from scheduler import Daemon
from storage.context import AppContext
from tests.daemon.conftest import migrate, source_yaml, write_sources

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def daemon(config_dir: Path) -> Iterator[Daemon]:
    write_sources(config_dir, source_yaml("local-news", "http://127.0.0.1:9/feed.xml"))
    migrate(config_dir)
    made = Daemon(AppContext.create(config_dir))
    made.tick_lease = lambda now: None  # type: ignore[method-assign]  # no scheduler: reload decisions only
    yield made
    made.app.close()


def refusals(caplog: pytest.LogCaptureFixture) -> int:
    return sum("config edit refused" in r.getMessage() for r in caplog.records)


def test_half_written_edit_waits_and_the_finished_one_is_refused_once(
    daemon: Daemon, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="yuqing.daemon")
    sources = config_dir / "sources.yaml"
    sources.write_text("", encoding="utf-8")  # what a poll sees between truncate and write
    daemon.step(NOW)
    sources.write_text("sources:\n  - id: broken\n    kind: rss\n    nmae: typo\n", encoding="utf-8")
    daemon.step(NOW)
    assert refusals(caplog) == 0  # neither version was stable for a poll yet
    daemon.step(NOW)
    assert refusals(caplog) == 1
    assert "sources.yaml:4: sources[0] (id: broken).nmae: unknown key" in caplog.text
    daemon.step(NOW)
    daemon.step(NOW)
    assert refusals(caplog) == 1  # the same broken files are reported once


def test_valid_edit_is_applied_on_the_poll_after_it_settles(daemon: Daemon, config_dir: Path) -> None:
    write_sources(
        config_dir,
        source_yaml("local-news", "http://127.0.0.1:9/feed.xml"),
        source_yaml("second-site", "http://127.0.0.1:9/b.xml", every="1h"),
    )
    daemon.step(NOW)
    assert [s.id for s in daemon.app.config.sources.sources] == ["local-news"]
    daemon.step(NOW)
    assert [s.id for s in daemon.app.config.sources.sources] == ["local-news", "second-site"]


def test_sighup_reloads_without_waiting(daemon: Daemon, config_dir: Path) -> None:
    write_sources(config_dir, source_yaml("other", "http://127.0.0.1:9/feed.xml"))
    daemon.reload_requested = True
    daemon.step(NOW)
    assert [s.id for s in daemon.app.config.sources.sources] == ["other"]


def test_files_changing_between_the_settled_poll_and_the_reload_wait_again(
    daemon: Daemon, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from yuqing.daemon.snapshot import fingerprint

    caplog.set_level(logging.INFO, logger="yuqing.daemon")
    write_sources(config_dir, source_yaml("a", "http://127.0.0.1:9/a.xml"))
    settled = fingerprint(config_dir)
    (config_dir / "sources.yaml").write_text("sources:\n  - id: half", encoding="utf-8")  # lands just before the reload
    assert daemon.reload(NOW, expected=settled) is False
    assert refusals(caplog) == 0 and daemon.pending == fingerprint(config_dir)
    assert [s.id for s in daemon.app.config.sources.sources] == ["local-news"]
