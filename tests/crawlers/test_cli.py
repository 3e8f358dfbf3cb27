"""``yuqing crawl`` errors, ``yuqing sources list``, ``yuqing extract``, ``scrapy list``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from conftest import crawl, run_yuqing

from yuqing.cli import cli

SITE = Path(__file__).resolve().parent / "site"
REPO = Path(__file__).resolve().parents[2]


def test_unknown_source_is_an_error_with_the_known_ids(crawl_config: Path) -> None:
    done = run_yuqing(crawl_config, "crawl", "no-such-source")
    assert done.returncode == 1
    assert 'Error: unknown source "no-such-source"' in done.stderr
    assert "Hint: known sources: rss-test, atom-test, news-test" in done.stderr
    assert "Traceback" not in done.stderr


def test_crawl_needs_a_source_or_all(crawl_config: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(crawl_config), "crawl"])
    assert result.exit_code == 1 and "Error: give a SOURCE_ID or --all" in result.output


def test_sources_list_shows_the_last_run(crawl_config: Path) -> None:
    crawl(crawl_config, "board-test")
    result = CliRunner().invoke(cli, ["--config", str(crawl_config), "sources", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert "ok new=2" in lines["board-test"] and "never crawled" in lines["news-test"]
    assert re.search(r"\[\d{4}-\d\d-\d\d \d\d:\d\d \+08:00 ok new=2\]", lines["board-test"])  # labelled
    assert "disabled" in lines["search-test"]
    rows = [
        json.loads(line)
        for line in CliRunner()
        .invoke(cli, ["--config", str(crawl_config), "sources", "list", "--json"])
        .output.splitlines()
    ]
    board = next(r for r in rows if r["id"] == "board-test")
    assert (board["last_status"], board["last_new"], board["media_type"]) == ("ok", 2, "政务")
    assert datetime.fromisoformat(board["last_run"]).utcoffset() == timedelta(0)  # JSON: ISO 8601, UTC


def test_extract_reads_raw_bytes_and_detects_gbk(config_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(config_dir),
            "extract",
            "--json",
            str(SITE / "forum" / "t1.html"),
            str(SITE / "news" / "a5.html"),
        ],
    )
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["file"].endswith("t1.html") and first["title"] == "小区门口夜市噪音扰民何时能管管"
    assert first["text"].endswith("希望有关部门管一管。")
    assert second["title"] == "检察机关依法惩治侵害未成年人犯罪"
    assert (second["published_at"], second["author"]) == ("2023-03-08T01:15:00+00:00", "孙八")
    assert "不应出现的脚本文字" not in second["text"]


def test_extract_plain_output(config_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(config_dir),
            "extract",
            str(SITE / "news" / "s1.html"),
            "--url",
            "http://example.cn/news/s1.html",
        ],
    )
    assert result.exit_code == 0
    assert "title: 公安机关公布十起侵犯公民个人信息典型案例" in result.output
    assert "published: 2023-03-09 10:00 +08:00" in result.output  # the configured timezone, labelled


def test_every_collect_command_has_help_with_an_example() -> None:
    for args in (["crawl"], ["sources"], ["sources", "list"], ["extract"]):
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, args


def test_scrapy_list_from_the_repository_root() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("scrapy")), "list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.split() == ["html", "json", "rss", "sitemap"], done.stderr


def test_scrapy_crawl_from_the_repository_root(crawl_config: Path) -> None:
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("scrapy")),
            "crawl",
            "json",
            "-s",
            f"YUQING_CONFIG_DIR={crawl_config}",
            "-s",
            "YUQING_SOURCE=api-test",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "LOG_LEVEL=WARNING",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = CliRunner().invoke(cli, ["--config", str(crawl_config), "sources", "list", "--json"])
    api = next(json.loads(line) for line in result.output.splitlines() if '"api-test"' in line)
    assert (api["last_status"], api["last_new"]) == ("ok", 2)
