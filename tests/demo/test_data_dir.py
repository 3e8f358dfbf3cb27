"""``yuqing demo --data-dir D`` keeps everything in D, whatever ``YUQING_DATA_DIR`` says."""

from __future__ import annotations

from pathlib import Path

from yuqing.demo.run import demo_app, demo_environ


def test_the_explicit_data_dir_wins_over_the_environment(tmp_path: Path) -> None:
    chosen, other = tmp_path / "chosen", tmp_path / "from-env"
    environ = {
        "YUQING_DATA_DIR": str(other),
        "YUQING_DATABASE_URL": f"sqlite:///{other / 'admin.db'}",
        "YUQING_MAIL_TRANSPORT": "smtp",
        "PATH": "/usr/bin",
    }
    app = demo_app(chosen, "http://127.0.0.1:1", environ)
    config = app.config
    assert config.data_dir == chosen
    assert config.outbox_dir == chosen / "outbox"
    assert config.database_url == f"sqlite:///{chosen / 'yuqing.db'}"
    assert config.settings.mail.transport == "outbox"
    assert app.reload().data_dir == chosen  # the demo reloads its config once: still its own dir
    crawl_env = demo_environ(chosen, environ)  # what the crawl subprocesses and the daemon see
    assert crawl_env["YUQING_DATA_DIR"] == str(chosen) and "YUQING_DATABASE_URL" not in crawl_env
    assert crawl_env["PATH"] == "/usr/bin"
