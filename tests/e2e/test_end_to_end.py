"""End to end, as an admin would run it: the demo site, `yuqing init`, crawl every source,
analyse, and send the digest to a real SMTP server; then read the email that arrived."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "alerts"))

from alerts_testlib import SmtpServer, start_smtp  # noqa: E402

from yuqing.demo.run import write_config  # noqa: E402
from yuqing.demo.site import DemoSite, serve  # noqa: E402

SOURCE_NAMES = ("临江新闻", "临江论坛·百姓话题", "青山县领导留言板", "同城热点")
NEGATIVE_TITLES = (
    "城关派出所辅警推搡七旬老人",
    "申请执行三年无果，东湖区法院执行局消极执行",
    "举报：临江监狱服刑人员疑似花钱办保外就医",
    "请求彻查城关派出所辅警暴力执法一事",
)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = start_smtp()
    yield server
    server.controller.stop()


def yuqing(config_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "yuqing.cli", "--config", str(config_dir), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert done.returncode == 0, f"yuqing {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def use_smtp(config_dir: Path, smtp: SmtpServer) -> None:
    path = config_dir / "settings.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "  transport: outbox\n",
        f"  transport: smtp\n  smtp:\n    host: {smtp.host}\n    port: {smtp.port}\n    security: none\n",
    )
    path.write_text(text, encoding="utf-8")


def end_period_now(config_dir: Path) -> str:
    """Make the groups' digest period end at the current local minute (it has ended, and its 24
    hours hold every demo post but the one published three days ago); returns the report date."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    alerts = config_dir / "alerts.yaml"
    alerts.write_text(alerts.read_text(encoding="utf-8").replace('"08:00"', f'"{now:%H:%M}"'), encoding="utf-8")
    return now.date().isoformat()


def visible_text(markup: str) -> str:
    """HTML as a reader sees it (matched terms are wrapped in highlight tags)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def parts(message: Message) -> dict[str, str]:
    return {
        p.get_content_type(): p.get_content()
        for p in message.walk()
        if p.get_content_type() in ("text/plain", "text/html")
    }


@pytest.fixture(scope="module")
def digests(smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Message]:
    data_dir = tmp_path_factory.mktemp("e2e")
    server, base = serve(DemoSite(datetime.now(timezone.utc)))
    try:
        config_dir = write_config(data_dir, base)
        use_smtp(config_dir, smtp)
        yuqing(config_dir, "init")
        yuqing(config_dir, "crawl", "--all")
        yuqing(config_dir, "analyze")
        today = end_period_now(config_dir)
        yuqing(config_dir, "digest", "--date", today, "--send")
        again = yuqing(config_dir, "digest", "--date", today, "--send")
    finally:
        server.shutdown()
    # the second run for the same day delivers nothing, and says when and to whom the first went
    assert not any(line.startswith("sent") for line in again.splitlines()), again
    for group in ("press-office", "qingshan-police"):
        assert f"{group}: digest:{today}:{group}: already sent at " in again, again
    received = [m for _, m in smtp.inbox.messages if "舆情日报" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in received) == ["analyst@localhost", "qingshan-police@localhost"]  # once each
    for message in received:  # the period had ended: the full digest, not a partial one
        assert all("非完整" not in text for text in (str(message["Subject"]), *parts(message).values()))
    return {str(m["To"]): m for m in received}


def test_digest_lists_the_negative_items(digests: dict[str, Message]) -> None:
    body = parts(digests["analyst@localhost"])
    for title in NEGATIVE_TITLES:
        assert title in body["text/plain"] and title in visible_text(body["text/html"]), title
    assert "临江本周迎来降温降雨" not in body["text/plain"]  # not about the sector


def test_reposts_are_merged_into_one_event(digests: dict[str, Message]) -> None:
    text = parts(digests["analyst@localhost"])["text/plain"]
    events = text.split("【热点事件（转载合并）】", 1)[1].split("【", 1)[0]
    lines = [line for line in events.splitlines() if "城关派出所辅警推搡七旬老人" in line]
    assert len(lines) == 1 and "（3篇，3个来源" in lines[0], events


def test_personal_data_is_masked_everywhere(digests: dict[str, Message]) -> None:
    for message in digests.values():
        raw = message.as_string()
        for secret in ("430124198506123714", "13812345678"):
            assert secret not in raw
            for body in parts(message).values():
                assert secret not in body
    text = parts(digests["analyst@localhost"])["text/plain"]
    assert "138****5678" in text


def test_coverage_lists_every_source(digests: dict[str, Message]) -> None:
    text = parts(digests["analyst@localhost"])["text/plain"]
    coverage = text[text.rindex("信息源") :]
    for name in SOURCE_NAMES:
        assert name in coverage, name


def test_unit_digest_only_carries_its_topics(digests: dict[str, Message]) -> None:
    text = parts(digests["qingshan-police@localhost"])["text/plain"]
    assert "城关派出所辅警推搡七旬老人" in text
    assert "临江监狱服刑人员疑似花钱办保外就医" not in text  # a prison matter, not the police unit's
