"""Digest windows that match the report's name: the digest dated D covers D-1 08:00 to D 08:00 by
published time (collection time when unknown); a period that has not ended is refused unless
forced (then marked 非完整); a repeat says when and to whom it went; the daily job sends the period
that just ended."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from alerts_testlib import ALERTS_YAML, SEND_AT, TZ_SHANGHAI, Seed, make_app
from click.testing import CliRunner
from sqlalchemy import select, update

from alerts.service import build_digest, digest_recorded, prior_digests, select_groups, send_digests
from alerts.windows import latest_period_end, period_end_on
from config.alerts_model import Group
from storage.context import AppContext
from storage.models import DeliveryRow, PostRow
from yuqing.base.errors import YuqingError
from yuqing.cli import cli

D = date(2026, 11, 27)  # SEND_AT is D 08:00 in Shanghai
EVENING_BEFORE = SEND_AT - timedelta(hours=12)  # 11-26 20:00 local


def _police(seed: Seed, title: str, collected: datetime, published: datetime | None) -> int:
    post_id = seed.post(title, at=collected, published=published, topics={"police": ["民警"]}, negative=True, risk=2)
    if published is None:
        seed.session.execute(update(PostRow).where(PostRow.id == post_id).values(published_at=None))
    return post_id


def _emails(app: AppContext) -> list[EmailMessage]:
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted(app.config.outbox_dir.glob("*.eml"))
    ]


def test_the_window_is_by_published_time_falling_back_to_collection_time(app: AppContext) -> None:
    """D-1 08:00 ≤ post time < D 08:00, whatever the collection time; undated posts by collection."""
    start = SEND_AT - timedelta(days=1)
    with app.session() as session:
        seed = Seed(session)
        inside = {
            _police(seed, "发布于窗口开始：民警", SEND_AT + timedelta(hours=2), start),
            _police(seed, "发布于结束前一分钟：民警", SEND_AT + timedelta(hours=2), SEND_AT - timedelta(minutes=1)),
            _police(seed, "发布时间不明昨晚采集：民警", EVENING_BEFORE, None),
        }
        _police(seed, "发布于窗口结束：民警", SEND_AT + timedelta(hours=2), SEND_AT)
        _police(seed, "窗口前发布窗口内采集：民警", start + timedelta(hours=1), start - timedelta(minutes=1))
        _police(seed, "发布时间不明今天采集：民警", SEND_AT + timedelta(minutes=30), None)
    group = select_groups(app, "press-office")[0]
    d = build_digest(app, group, SEND_AT, SEND_AT + timedelta(hours=3), chart=False)
    assert d.period == "2026-11-26 08:00 至 2026-11-27 08:00" and not d.partial_until
    assert {c.label: c.value for c in d.summary}["采集"] == 3
    assert {i.id for i in d.items} == inside
    assert [t.relevant for t in d.topics] == [3]
    # the next day's digest holds the two posted (or, undated, collected) after 08:00; it is 非完整
    after = build_digest(app, group, SEND_AT + timedelta(days=1), SEND_AT + timedelta(hours=3), chart=False)
    assert {c.label: c.value for c in after.summary}["采集"] == 2
    assert after.partial_until == "11-27 11:00" and "非完整" in after.period


def test_the_boundary_is_the_groups_period_end_and_the_job_sends_the_period_just_ended() -> None:
    tz = TZ_SHANGHAI
    default = Group(id="a", name="甲")
    assert period_end_on(default, D, tz) == datetime(2026, 11, 27, 8, 0, tzinfo=tz)
    early = Group(id="b", name="乙", digest_time="08:30", period_end="07:00")
    job_run = datetime(2026, 11, 27, 8, 30, tzinfo=tz)
    assert latest_period_end(early, job_run, tz) == datetime(2026, 11, 27, 7, 0, tzinfo=tz)
    assert latest_period_end(early, job_run - timedelta(hours=2), tz) == datetime(2026, 11, 26, 7, 0, tzinfo=tz)
    # a digest just after midnight for the day that ended: dated by the period's end
    night = Group(id="c", name="丙", digest_time="00:30", period_end="00:00")
    assert latest_period_end(night, datetime(2026, 11, 28, 0, 30, tzinfo=tz), tz).date() == date(2026, 11, 28)


def test_a_period_end_before_the_send_time(config_dir: Path, tmp_path: Path) -> None:
    yaml = ALERTS_YAML.replace(
        'channels: [mail], digest_time: "08:00"}', 'channels: [mail], digest_time: "08:30", period_end: "07:00"}', 1
    )
    app = make_app(config_dir, f"sqlite:///{tmp_path / 'p.db'}", alerts=yaml)
    try:
        with app.session() as session:
            seed = Seed(session)
            _police(seed, "六点发布：民警", SEND_AT, SEND_AT - timedelta(hours=2))
            _police(seed, "七点半发布：民警", SEND_AT, SEND_AT - timedelta(minutes=30))
        job_run = SEND_AT + timedelta(minutes=30)  # the daemon's job at 08:30
        assert not digest_recorded(app, "press-office", job_run)
        [result, _] = send_digests(app, job_run, group_id="press-office")
        assert result.key == "digest:2026-11-27:press-office"
        assert digest_recorded(app, "press-office", job_run)
        [mail, _] = _emails(app)
        assert "负面1条" in str(mail["Subject"]) and "非完整" not in str(mail["Subject"])
        body = mail.get_body(("plain",))
        assert body is not None and "2026-11-26 07:00 至 2026-11-27 07:00" in body.get_content()
    finally:
        app.close()


def test_an_unended_period_is_refused_then_forced_as_partial_and_the_full_one_still_goes(app: AppContext) -> None:
    with app.session() as session:
        _police(Seed(session), "昨晚发布：民警殴打群众", EVENING_BEFORE, EVENING_BEFORE - timedelta(minutes=5))
    with pytest.raises(YuqingError) as refused:  # on the evening before, D's period has not ended
        send_digests(app, EVENING_BEFORE + timedelta(minutes=10), day=D)
    assert "has not ended" in refused.value.message and "2026-11-27 08:00" in refused.value.message
    assert refused.value.hint and "--force" in refused.value.hint
    with app.session() as session:
        assert not session.scalars(select(DeliveryRow)).all()  # nothing recorded, nothing sent

    forced = send_digests(app, EVENING_BEFORE + timedelta(minutes=10), day=D, force=True)
    assert forced and all(r.status == "sent" and ":partial:" in r.key for r in forced)
    subjects = {str(m["Subject"]) for m in _emails(app)}
    assert "【舆情日报】政法委宣传处 2026-11-27（非完整，截至11-26 20:10）：负面1条" in subjects
    assert all("非完整" in s for s in subjects)

    # the real 08:00 digest for that date still goes out, complete
    full = send_digests(app, SEND_AT + timedelta(minutes=1))
    assert {r.key for r in full} == {"digest:2026-11-27:press-office", "digest:2026-11-27:shenzhen"}
    assert sum("非完整" not in str(m["Subject"]) for m in _emails(app)) == len(full)
    # a repeat sends nothing; what was sent, when and to whom is on record
    assert send_digests(app, SEND_AT + timedelta(hours=2), day=D) == []
    prior = prior_digests(app, SEND_AT + timedelta(hours=2), day=D)
    assert {r.recipient for r in prior["press-office"]} == {"analyst@example.cn", "chief@example.cn"}
    assert all(r.status == "sent" and r.key == "digest:2026-11-27:press-office" for r in prior["press-office"])


def test_the_cli_refuses_an_early_send_and_says_when_a_digest_went(sqlite_app: AppContext) -> None:
    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--config", str(sqlite_app.config_dir), *args])
        return result.exit_code, result.output

    tomorrow = (datetime.now(timezone.utc).astimezone(TZ_SHANGHAI) + timedelta(days=1)).date().isoformat()
    code, out = run("digest", "--date", tomorrow, "--group", "shenzhen", "--send")
    assert code == 1 and "has not ended yet" in out and "--force" in out, out
    code, out = run("digest", "--date", tomorrow, "--group", "shenzhen")  # a preview says it is partial
    assert code == 0 and "非完整" in out and "partial" in out, out
    code, out = run("digest", "--date", tomorrow, "--group", "shenzhen", "--send", "--force")
    assert code == 0 and out.count("sent ") == 1 and ":partial:" in out, out

    code, out = run("digest", "--group", "shenzhen", "--send")  # the period that ended last
    assert code == 0 and out.count("sent ") == 1, out
    code, out = run("digest", "--group", "shenzhen", "--send")
    assert code == 0 and "nothing to send" not in out, out
    assert "shenzhen: digest:" in out and "already sent at " in out and "to sz@example.cn" in out
    code, out = run("digest", "--group", "shenzhen", "--send", "--json")
    assert code == 0 and '"already"' in out and '"recipient": "sz@example.cn"' in out, out
