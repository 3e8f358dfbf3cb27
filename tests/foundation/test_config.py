"""Config validation: every error in every file, with file, line, key and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import load_config
from tests.foundation.configfiles import edit, errors_of, line_no


def test_shipped_config_is_valid() -> None:
    config = load_config(None, {})
    assert config.settings.timezone == "Asia/Shanghai"
    names = {t.name for t in config.topics.topics}
    assert {"公安", "法院", "检察院", "政法委", "暴力执法", "冤假错案"} <= names
    assert config.database_url.startswith("sqlite:///")


def test_three_planted_mistakes_are_all_reported_with_file_and_line(config_dir: Path) -> None:
    topics, alerts, settings = (config_dir / n for n in ("topics.yaml", "alerts.yaml", "settings.yaml"))
    edit(topics, "    keywords: [法院, 法官,", "    keywords: 法院\n    old: [法院, 法官,")
    edit(settings, "  timeout: 30 ", "  timeout: thirty ")
    edit(alerts, "  window_hours: 24 ", "  window_hours: [24 ")
    found = errors_of(config_dir)
    assert len(found) == 4, found
    kw_line = line_no(topics, "keywords: 法院")
    assert any(
        re.search(rf"topics.yaml:{kw_line}: topics\[1\] \(id: courts\)\.keywords: must be a list", e) for e in found
    ), found
    assert any(
        re.search(
            rf"topics.yaml:{kw_line + 1}: topics\[1\] \(id: courts\)\.old: unknown key; allowed keys: .*keywords", e
        )
        for e in found
    ), found
    assert any(
        re.search(rf"settings.yaml:{line_no(settings, 'thirty')}: crawl.timeout: must be a number", e) for e in found
    ), found
    assert any(
        re.search(rf"alerts.yaml:{line_no(alerts, 'window_hours: [24')}: YAML syntax error", e) for e in found
    ), found


def test_typo_suggests_the_key_meant(config_dir: Path) -> None:
    edit(
        config_dir / "topics.yaml",
        "    weight: 2.0\n    keywords: [殴打",
        "    wieght: 2.0\n    keywords: [殴打",
    )
    (found,) = errors_of(config_dir)
    assert 'unknown key (did you mean "weight"?)' in found


def test_empty_keyword_list_names_the_rule(config_dir: Path) -> None:
    edit(
        config_dir / "topics.yaml",
        "    keywords: [检察院, 检察官, 检察长, 检察机关, 最高检, 检方, 公诉, 批捕, 不起诉]",
        "    keywords: []",
    )
    (found,) = errors_of(config_dir)
    assert re.search(
        r"topics.yaml:\d+: topics\[2\] \(id: procuratorate\)\.keywords: must be a non-empty list of strings", found
    )


def test_wrong_enum_lists_allowed_values(config_dir: Path) -> None:
    edit(config_dir / "settings.yaml", "  transport: outbox ", "  transport: pigeon ")
    (found,) = errors_of(config_dir)
    assert "mail.transport: must be one of: outbox or smtp (got 'pigeon')" in found


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("settings.yaml", "    username:   ", "    password: hunter2\n    username:   "),
        ("alerts.yaml", "    type: email", "    type: email\n    token: abcdef"),
        ("settings.yaml", "\ndatabase_url:\n", "\ndatabase_url: postgresql://yuqing:s3cret@db/yuqing\n"),
    ],
)
def test_secrets_in_yaml_are_refused_with_a_hint(config_dir: Path, file: str, old: str, new: str) -> None:
    edit(config_dir / file, old, new)
    found = errors_of(config_dir)
    assert any("environment variable" in e and f"{file}:" in e for e in found), found


def test_environment_overrides_settings(config_dir: Path, tmp_path: Path) -> None:
    config = load_config(
        config_dir,
        {
            "YUQING_DATABASE_URL": "sqlite:////tmp/x.db",
            "YUQING_DATA_DIR": str(tmp_path / "elsewhere"),
            "YUQING_TIMEZONE": "UTC",
        },
    )
    assert config.database_url == "sqlite:////tmp/x.db"
    assert config.data_dir == tmp_path / "elsewhere"
    assert config.settings.timezone == "UTC"


def test_bad_environment_value_is_reported(config_dir: Path) -> None:
    found = errors_of(config_dir, {"YUQING_TIMEZONE": "Mars/Olympus"})
    assert any('unknown timezone "Mars/Olympus"' in e for e in found)


def test_unknown_topic_in_group_is_a_cross_file_error(config_dir: Path) -> None:
    edit(config_dir / "alerts.yaml", "    topics: []", "    topics: [police, polise]")
    (found,) = errors_of(config_dir)
    assert re.search(r'alerts.yaml:\d+: groups\[0\] \(id: press-office\)\.topics\[1\]: unknown topic "polise"', found)


def test_duplicate_source_id_is_refused(config_dir: Path) -> None:
    text = (config_dir / "sources.yaml").read_text(encoding="utf-8")
    text = text.replace("  - id: chinapeace", "  - id: people-politics")
    (config_dir / "sources.yaml").write_text(text, encoding="utf-8")
    (found,) = errors_of(config_dir)
    assert 'source id "people-politics" is used twice' in found


def test_missing_config_dir_is_one_clear_error(tmp_path: Path) -> None:
    (found,) = errors_of(tmp_path / "nope")
    assert "config directory does not exist" in found


def test_non_utf8_file_is_reported(config_dir: Path) -> None:
    (config_dir / "topics.yaml").write_bytes("topics: []\n# 中文".encode("gbk"))
    (found,) = errors_of(config_dir)
    assert "not UTF-8" in found


def test_schedule_needs_exactly_one_of_interval_or_cron(config_dir: Path) -> None:
    edit(config_dir / "sources.yaml", "schedule: {interval: 1h}", 'schedule: {interval: 1h, cron: "0 * * * *"}')
    (found,) = errors_of(config_dir)
    assert 'give exactly one of "interval" or "cron"' in found


def test_a_mistake_in_a_list_item_names_the_items_id(config_dir: Path) -> None:
    """``sources[4]`` alone sends the admin counting list items: the id says which source it is."""
    sources = config_dir / "sources.yaml"
    edit(sources, "    name: 中国长安网·要闻\n", "    name: 中国长安网·要闻\n    max_page: 2\n")
    (found,) = errors_of(config_dir)
    line = line_no(sources, "max_page: 2")
    assert re.search(rf"sources.yaml:{line}: sources\[4\] \(id: chinapeace\)\.max_page: unknown key", found), found
    assert 'did you mean "max_pages"?' in found


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('links: "div.sec_list li a"', 'links: "div.sec_list li a["', "invalid CSS selector 'div.sec_list li a['"),
        (
            'title: "div.title"',
            "title: \"//div[@class='title']\"",
            "invalid CSS selector \"//div[@class='title']\": Expected selector, got <DELIM '/' at 0> "
            '(an XPath needs the prefix "xpath:")',
        ),
        (
            "next_page: \"xpath://a[contains(text(), '下一页')]/@href\"",
            "next_page: \"xpath://a[contains(text(), '下一页')/@href\"",
            "invalid XPath \"xpath://a[contains(text(), '下一页')/@href\": Invalid predicate",
        ),
    ],
)
def test_a_selector_that_does_not_compile_is_a_config_error(config_dir: Path, old: str, new: str, problem: str) -> None:
    """Caught by `config check` with file, line and a hint, not at crawl time."""
    sources = config_dir / "sources.yaml"
    edit(sources, old, new)
    (found,) = errors_of(config_dir)
    key = old.split(":")[0]
    line = line_no(sources, new)
    assert found.startswith(f"{sources}:{line}: sources[5] (id: court-news).selectors.{key}: {problem}"), found
    assert 'or XPath with the prefix "xpath:"' in found
    from click.testing import CliRunner

    from yuqing.cli import cli

    checked = CliRunner().invoke(cli, ["--config", str(config_dir), "config", "check"])
    assert checked.exit_code == 1 and f"sources.yaml:{line}: sources[5] (id: court-news).selectors.{key}: " in " ".join(
        checked.output.split()
    ), checked.output
