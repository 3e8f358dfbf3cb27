"""The console's two longer flows in the system Chromium: the press office hands an event to 深圳's unit
and the unit's own user moves it on (each seeing the other's steps), and an admin tests, backtests,
applies and undoes a keyword change of a topic."""

from __future__ import annotations

import re
from typing import Any

from browserlib import Served, logged_in
from playwright.sync_api import expect

from alerts import deliveries as dl

BEATING = "网友称某派出所民警执法时殴打群众"
SZ_UNIT = "深圳市委政法委"


def steps_of(page: Any) -> Any:
    return page.locator("#steps > li > .status")


def open_event(page: Any, title: str) -> None:
    """From anywhere, through the menu: 事件处置, then the event by its title."""
    page.get_by_role("link", name="事件处置").click()
    page.wait_for_url("**/events")
    page.get_by_role("link", name=title, exact=True).click()
    page.wait_for_url(re.compile(r".*/events/\d+$"))


def test_hand_an_event_to_a_unit_and_the_units_user_updates_it(browser: Any, served: Served) -> None:
    office, office_seen = logged_in(browser, served, "analyst")
    open_event(office, BEATING)
    event_url = office.url
    expect(office.locator("#handling-status")).to_have_text("待研判")

    office.get_by_label("研判意见").fill("涉警负面，需核实后统一回应")
    office.get_by_role("button", name="保存研判").click()
    expect(office.get_by_label("研判意见")).to_have_value("涉警负面，需核实后统一回应")

    office.get_by_label("说明").fill("请当日核实并回应")
    office.get_by_label("承办单位").select_option(label=SZ_UNIT)
    office.get_by_role("button", name="交办", exact=True).click()
    expect(office.locator("#handling-status")).to_have_text("已交办")
    expect(office.get_by_text(f"承办单位：{SZ_UNIT}")).to_be_visible()
    expect(steps_of(office)).to_have_text(["已交办"])
    expect(office.locator("#steps")).to_contain_text("请当日核实并回应")
    office_seen.assert_inert("hand over")
    with served.site.app.session() as session:  # the unit was told at once, on its own channel
        told = [(r.kind, r.recipient) for r in dl.listing(session) if r.key.startswith("handover:")]
    assert told == [("handover", "sz@example.cn")]

    unit, unit_seen = logged_in(browser, served, "sz")
    unit.get_by_role("link", name="事件处置").click()
    unit.get_by_label("处置状态").select_option("已交办")  # what was handed to the unit
    unit.get_by_role("button", name="筛选").click()
    unit.wait_for_url("**status=**")
    expect(unit.locator("#events tbody tr")).to_have_count(1)
    unit.get_by_role("link", name=BEATING, exact=True).click()
    assert unit.url == event_url
    expect(unit.get_by_label("研判意见")).to_have_count(0)  # the note is the office's: shown, not editable
    expect(unit.locator("#assessment")).to_have_text("涉警负面，需核实后统一回应")
    expect(unit.get_by_role("button", name="已回应")).to_have_count(0)  # 处置中 comes first
    unit.get_by_label("说明").fill("已约谈当事民警，调取执法记录仪")
    unit.get_by_role("button", name="开始处置").click()
    expect(unit.locator("#handling-status")).to_have_text("处置中")
    unit.get_by_label("说明").fill("已发布警情通报")
    unit.get_by_role("button", name="已回应").click()
    expect(unit.locator("#handling-status")).to_have_text("已回应")
    expect(steps_of(unit)).to_have_text(["已交办", "处置中", "已回应"])
    unit_seen.assert_inert("the unit's updates")

    office.reload()  # the office sees the unit's steps, who took them, and closes the event
    expect(steps_of(office)).to_have_text(["已交办", "处置中", "已回应"])
    expect(office.locator("#steps")).to_contain_text("sz")
    expect(office.locator("#steps")).to_contain_text("已发布警情通报")
    office.get_by_label("说明").fill("舆情平息")
    office.get_by_role("button", name="办结").click()
    expect(office.locator("#handling-status")).to_have_text("已办结")
    office.get_by_role("link", name="事件处置").click()
    expect(office.locator("#events tbody tr").filter(has_text=BEATING)).to_contain_text(f"已办结 {SZ_UNIT}")
    office_seen.assert_inert("close")


def test_change_a_keyword_with_backtest_and_apply(browser: Any, served: Served) -> None:
    topics_yaml = served.site.app.config_dir / "topics.yaml"
    original = topics_yaml.read_text(encoding="utf-8")
    page, seen = logged_in(browser, served, "admin")
    page.get_by_role("link", name="系统管理").click()
    page.get_by_role("link", name="关键词", exact=True).click()
    page.get_by_role("link", name="公安", exact=True).click()
    page.wait_for_url("**/admin/keywords/police")

    test_box = page.locator("#test")  # the live test on a pasted text, with the reasons
    test_box.get_by_label("正文").fill("这部电视剧里的警察很帅")
    test_box.get_by_role("button", name="测试").click()
    expect(page.locator("#test .verdict")).to_have_text("不匹配，原因：")
    expect(page.locator("#test .reasons")).to_contain_text("含排除词“电视剧”")

    change = page.locator("#change")  # exclude 反诈: the anti-fraud campaign leaves the topic
    change.get_by_label("增加排除词").fill("反诈")
    change.get_by_role("button", name="回测").click()
    expect(page.locator("#change .before")).to_have_text("3")
    expect(page.locator("#change .after")).to_have_text("2")
    expect(page.locator("#change ul.lost")).to_contain_text("公安机关开展反诈宣传进社区活动")
    expect(page.locator("#change ul.gained")).to_have_count(0)
    assert topics_yaml.read_text(encoding="utf-8") == original  # a backtest writes nothing

    page.get_by_role("button", name="应用到 topics.yaml").click()
    expect(page.get_by_role("status")).to_have_text("已应用：增加排除词：反诈")
    written = topics_yaml.read_text(encoding="utf-8")
    assert "反诈" in written and "# ---- the institutions the office speaks for" in written  # comments kept
    expect(page.locator("#history tbody tr").first).to_contain_text("admin")

    test_box = page.locator("#test")  # the live test now uses the applied rule
    test_box.get_by_label("正文").fill("民警走进社区开展反诈宣传")
    test_box.get_by_role("button", name="测试").click()
    expect(page.locator("#test .reasons")).to_contain_text("反诈")

    page.locator("#history tbody tr").first.get_by_role("button", name="撤销").click()
    expect(page.get_by_role("status")).to_have_text("已撤销：删除排除词：反诈")
    assert re.sub(r"\s+", " ", topics_yaml.read_text(encoding="utf-8")) == re.sub(r"\s+", " ", original)
    seen.assert_inert("keywords")
