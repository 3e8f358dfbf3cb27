"""The keyword editor over HTTP: the rule test box, the backtest of a change over the seeded posts,
apply (comments kept, audited, the console's config reloaded), the cannot-fire warning, undo, roles."""

from __future__ import annotations

import re

from starlette.testclient import TestClient
from webtestlib import Site, csrf_of

from storage.audit import history

PAGE = "/admin/keywords/police"


def _admin(site: Site) -> tuple[TestClient, str]:
    client = site.client("admin")
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    return client, csrf_of(page.text)


def _topics_yaml(site: Site) -> str:
    return (site.app.config_dir / "topics.yaml").read_text(encoding="utf-8")


def _flat(yaml_text: str) -> str:
    return re.sub(r"\s+", " ", yaml_text)


def test_the_test_box_says_match_or_why_not(site: Site) -> None:
    client, csrf = _admin(site)
    hit = client.post(f"{PAGE}/test", data={"csrf": csrf, "title": "", "text": "派出所民警在菜市场殴打老人"})
    assert hit.status_code == 200
    assert "匹配：派出所、民警" in hit.text
    assert "<mark>派出所</mark><mark>民警</mark>" in hit.text
    excluded = client.post(f"{PAGE}/test", data={"csrf": csrf, "title": "", "text": "这部电视剧里的警察很帅"})
    assert "不匹配" in excluded.text
    assert "含排除词“电视剧”" in excluded.text
    nothing = client.post(f"{PAGE}/test", data={"csrf": csrf, "title": "明日天气", "text": "晴转多云"})
    assert "未出现任何关键词（关键词：公安、民警" in nothing.text


def test_backtest_counts_the_seeded_posts_before_and_after(site: Site) -> None:
    client, csrf = _admin(site)
    # police matches the beating, the anti-fraud and the hostile post; excluding 反诈 loses the second
    page = client.post(f"{PAGE}/backtest", data={"csrf": csrf, "exclude": "反诈", "days": "7"})
    assert page.status_code == 200, page.text
    assert "共回测 5 篇信息" in page.text
    assert '<b class="before">3</b>' in page.text and '<b class="after">2</b>' in page.text
    lost = re.search(r'<ul class="lost">(.*?)</ul>', page.text, re.S)
    assert lost and f"#{site.ids['praise']}" in lost.group(1) and f"#{site.ids['beating']}" not in lost.group(1)
    assert "<script>alert(1)" not in page.text  # crawled titles escaped
    gained = client.post(f"{PAGE}/backtest", data={"csrf": csrf, "add": "气象台"})
    assert '<b class="before">3</b>' in gained.text and '<b class="after">4</b>' in gained.text
    assert f"#{site.ids['weather']}" in gained.text
    assert "过于常见" in gained.text  # 1 of the 5 posts of the week: more than 5 %


def test_apply_keeps_comments_audits_reloads_and_undo_restores(site: Site) -> None:
    client, csrf = _admin(site)
    original = _topics_yaml(site)
    con = site.web.state.console  # type: ignore[attr-defined]
    assert "网络警察" not in con.analyzer().rules.topic("police").keywords
    answer = client.post(f"{PAGE}/apply", data={"csrf": csrf, "add": "网络警察"})
    assert answer.status_code == 200, answer.text
    assert "已应用：增加关键词：网络警察" in answer.text
    written = _topics_yaml(site)
    assert "网络警察" in written and written != original
    assert "# ---- the institutions the office speaks for" in written
    assert "# Words that carry no meaning for the sentiment model" in written
    assert "网络警察" in con.config.topics.get("police").keywords  # the console reloaded its config
    assert "网络警察" in con.analyzer().rules.topic("police").keywords  # and rebuilt its analyser
    with site.app.session() as session:
        last = history(session, "police", 1)[0]
    assert (last.actor, last.action, last.detail["add"]) == ("admin", "rules.apply", ["网络警察"])

    undo = re.search(rf'action="({PAGE}/undo/\d+)"', answer.text)
    assert undo, answer.text
    undone = client.post(undo.group(1), data={"csrf": csrf})
    assert undone.status_code == 200, undone.text
    assert "已撤销：删除关键词：网络警察" in undone.text
    assert _flat(_topics_yaml(site)) == _flat(original)  # the same file; the edited list may wrap differently
    assert "网络警察" not in con.config.topics.get("police").keywords
    with site.app.session() as session:
        last = history(session, "police", 1)[0]
    assert (last.actor, last.action) == ("admin", "rules.undo")


def test_an_undone_change_is_marked_and_not_undone_twice(sqlite_site: Site) -> None:
    """Undoing a change twice would revert whatever was edited since: the second time is refused
    and the history says which undo is in effect; undoing the undo brings the change back."""
    client, csrf = _admin(sqlite_site)
    applied = client.post(f"{PAGE}/apply", data={"csrf": csrf, "add": "网络警察"})
    apply_id = re.search(rf'action="{PAGE}/undo/(\d+)"', applied.text)
    assert apply_id, applied.text
    first = client.post(f"{PAGE}/undo/{apply_id.group(1)}", data={"csrf": csrf})
    assert first.status_code == 200 and "网络警察" not in _topics_yaml(sqlite_site)
    with sqlite_site.app.session() as session:
        undo_id = history(session, "police", 1)[0].id
    assert f"已撤销（#{undo_id}）" in first.text
    assert f'action="{PAGE}/undo/{apply_id.group(1)}"' not in first.text  # no button for the undone change
    assert f"（撤销 #{apply_id.group(1)}）" in first.text and "恢复原修改" in first.text
    client.post(f"{PAGE}/apply", data={"csrf": csrf, "add": "网警大队"})  # an edit made since
    again = client.post(f"{PAGE}/undo/{apply_id.group(1)}", data={"csrf": csrf})
    assert again.status_code == 409 and f"该修改已被撤销（#{undo_id}）" in again.text
    assert "网警大队" in _topics_yaml(sqlite_site)
    redo = client.post(f"{PAGE}/undo/{undo_id}", data={"csrf": csrf})
    assert redo.status_code == 200 and "网络警察" in _topics_yaml(sqlite_site)
    assert f'action="{PAGE}/undo/{apply_id.group(1)}"' in redo.text  # the change holds again: undoable
    assert f"已撤销（#{undo_id + 2}）" in redo.text  # the undo itself is undone by the redo


def test_a_keyword_that_cannot_fire_is_refused_until_accepted(site: Site) -> None:
    client, csrf = _admin(site)
    original = _topics_yaml(site)
    refused = client.post(f"{PAGE}/apply", data={"csrf": csrf, "add": "警察故事片"})
    assert refused.status_code == 409
    assert "“警察故事片”包含专题 police 的排除词“警察故事”" in refused.text
    assert _topics_yaml(site) == original
    accepted = client.post(f"{PAGE}/apply", data={"csrf": csrf, "add": "警察故事片", "accept": "1"})
    assert accepted.status_code == 200
    assert "警察故事片" in _topics_yaml(site)


def test_an_invalid_change_is_refused_and_the_file_unchanged(sqlite_site: Site) -> None:
    client, csrf = _admin(sqlite_site)
    original = _topics_yaml(sqlite_site)
    keywords = sqlite_site.app.config.topics.get("courts").keywords  # type: ignore[union-attr]
    answer = client.post(
        "/admin/keywords/courts/apply", data={"csrf": csrf, "remove": " ".join(keywords), "accept": "1"}
    )
    assert answer.status_code == 400
    assert "未通过配置校验" in answer.text
    assert _topics_yaml(sqlite_site) == original


def test_only_admins_may_edit_and_csrf_is_required(site: Site) -> None:
    for name in ("analyst", "viewer"):
        client = site.client(name)
        assert client.get("/admin/keywords").status_code == 403
        assert client.get(PAGE).status_code == 403
        csrf = csrf_of(client.get("/").text)
        assert client.post(f"{PAGE}/apply", data={"csrf": csrf, "add": "网络警察"}).status_code == 403
    admin = site.client("admin")
    assert "公安" in admin.get("/admin/keywords").text
    original = _topics_yaml(site)
    assert admin.post(f"{PAGE}/apply", data={"add": "网络警察"}).status_code == 403
    assert _topics_yaml(site) == original
