"""Secrets stay in the environment (issue 13 item 9, item 10): the YAML check catches every way a
secret is written into a config file, never repeats it, and names the variable that really works;
webhook URLs from the environment are checked at load; an SMTP login is never sent in clear."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import load_config
from config.loader import ENV_OVERRIDES
from tests.foundation.configfiles import edit, errors_of

CHANNELS = """channels:
  - {id: mail, type: email}
  - {id: ding, type: dingtalk, url_env: YUQING_DINGTALK_URL, secret_env: YUQING_DINGTALK_SECRET}
"""


def add_channels(config_dir: Path, extra: str = "") -> None:
    text = (config_dir / "alerts.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^channels:.*\n(?:(?:  .*|\s*#.*)?\n)*?(?=^\S)", "", text)  # drop the shipped channels
    (config_dir / "alerts.yaml").write_text(text + "\n" + CHANNELS + extra, encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "secret", "hint"),
    [
        (
            "settings.yaml",
            "\nredis_url:",
            "\nredis_url: redis://:Pa55word@127.0.0.1:6379/0\nx_redis:",
            "Pa55word",
            "YUQING_REDIS_URL",
        ),
        (
            "settings.yaml",
            "\ndatabase_url:\n",
            "\ndatabase_url: postgresql://yuqing:pa/ss@db/yuqing\n",
            "pa/ss",
            "YUQING_DATABASE_URL",
        ),
        (
            "settings.yaml",
            "    username:   ",
            "    password: hunter2\n    username:   ",
            "hunter2",
            "YUQING_SMTP_PASSWORD",
        ),
        (
            "settings.yaml",
            "    username:   ",
            "    password: 123456\n    username:   ",
            "123456",
            "YUQING_SMTP_PASSWORD",
        ),
        (
            "sources.yaml",
            "    start_urls: [",
            "    start_urls: [https://api.example.cn/feed?apikey=K3Y0, ",
            "K3Y0",
            "headers_env",
        ),
        (
            "sources.yaml",
            "    start_urls: [",
            "    start_urls: [https://api.example.cn/feed?api_key=K3Y1, ",
            "K3Y1",
            "headers_env",
        ),
        (
            "sources.yaml",
            "    start_urls: [",
            "    start_urls: [https://api.example.cn/feed?a=1&token=K3Y2, ",
            "K3Y2",
            "headers_env",
        ),
        (
            "sources.yaml",
            "    start_urls: [",
            "    start_urls: [https://api.example.cn/feed?password=K3Y3, ",
            "K3Y3",
            "headers_env",
        ),
    ],
)
def test_secret_written_in_yaml_is_refused_never_echoed_with_the_real_variable(
    config_dir: Path, file: str, old: str, new: str, secret: str, hint: str
) -> None:
    if "x_redis" in new:
        new = new.replace("\nx_redis:", "")
        old = "\nredis_url:\n"
        new += "\n"
    edit(config_dir / file, old, new)
    found = errors_of(config_dir)
    assert any(f"{file}:" in e and re.search(rf"{file}:\d+:", e) and hint in e for e in found), found
    assert not any(secret in e for e in found), found
    assert not any("password_env" in e for e in found), found


def test_value_pasted_under_an_env_key_is_refused_and_not_echoed(config_dir: Path) -> None:
    add_channels(
        config_dir,
        "  - {id: wc, type: wecom, url_env: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET9'}\n",
    )
    found = errors_of(config_dir)
    assert any(
        re.search(r"alerts.yaml:\d+: channels\[2\] \(id: wc\)\.url_env: must be the NAME of an environment variable", e)
        for e in found
    ), found
    assert not any("SECRET9" in e for e in found), found


def test_hints_name_only_variables_yuqing_reads(config_dir: Path) -> None:
    """The old hint suggested "password_env", a key the schema rejects."""
    edit(config_dir / "settings.yaml", "    username:   ", "    password: hunter2\n    username:   ")
    [found] = errors_of(config_dir)
    named = set(re.findall(r"YUQING_[A-Z_]+", found))
    assert named and named <= {*ENV_OVERRIDES, "YUQING_SMTP_PASSWORD"}, found


def test_webhook_url_in_the_environment_is_checked_at_load_without_echo(config_dir: Path) -> None:
    add_channels(config_dir)
    url = "https://oapi.dingtalk.com/robot/send?access_token=TOKEN77 &x=1"
    found = errors_of(config_dir, {"YUQING_DINGTALK_URL": url})
    assert any(
        re.search(
            r"alerts.yaml:\d+: channels\[1\] \(id: ding\)\.url_env: environment variable YUQING_DINGTALK_URL "
            r"contains a space",
            e,
        )
        and "https://" in e
        for e in found
    ), found
    assert not any("TOKEN77" in e for e in found)
    assert errors_of(config_dir, {"YUQING_DINGTALK_URL": "oapi.dingtalk.com/robot"})
    # a trailing space is tolerated (stripped where the URL is used)
    load_config(config_dir, {"YUQING_DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=T "})


def test_smtp_login_without_tls_is_refused_unless_opted_in(config_dir: Path) -> None:
    """Item 10: username + security: none would send the password in clear."""
    edit(config_dir / "settings.yaml", "    username:   ", "    username: yuqing@example.cn   ")
    [found] = errors_of(config_dir)
    assert re.search(r"settings.yaml:\d+: mail.smtp.username: .*in clear.*starttls.*ssl.*allow_plaintext_auth", found)
    edit(config_dir / "settings.yaml", "    allow_plaintext_auth: false", "    allow_plaintext_auth: true")
    assert load_config(config_dir, {}).settings.mail.smtp.username == "yuqing@example.cn"
    edit(config_dir / "settings.yaml", "    allow_plaintext_auth: true", "    allow_plaintext_auth: false")
    edit(config_dir / "settings.yaml", "    security: none", "    security: starttls")
    load_config(config_dir, {})
    # the same through the environment
    edit(config_dir / "settings.yaml", "    security: starttls", "    security: none")
    edit(config_dir / "settings.yaml", "    username: yuqing@example.cn   ", "    username:   ")
    assert any("in clear" in e for e in errors_of(config_dir, {"YUQING_SMTP_USERNAME": "u@example.cn"}))


@pytest.mark.parametrize(
    ("message", "secrets"),
    [
        (
            "cannot reach https://oapi.dingtalk.com/robot/send?access_token=AT1&timestamp=17&sign=S1%2B: refused",
            ["AT1", "17", "S1"],
        ),
        (
            "InvalidURL: URL can't contain control characters. '/robot/send?access_token=AT2&sign=S2 ' (found at least ' ')",
            ["AT2", "S2"],
        ),
        (
            "POST https://hooks.slack.com/services/T0AB12CD3/B0AB12CD3/xoxsecretsecretsecret99 failed",
            ["T0AB12CD3", "xoxsecret"],
        ),
        ("POST https://open.feishu.cn/open-apis/bot/v2/hook/2f6a1b7e-1234-4a5b-9c8d-0123456789ab", ["2f6a1b7e"]),
        ("redis://:pw0@127.0.0.1:6379/0 and postgresql://u:p/w1@db/x", ["pw0", "p/w1"]),
    ],
)
def test_one_redaction_function_hides_tokens_signatures_and_passwords(message: str, secrets: list[str]) -> None:
    from yuqing.base.text import redact

    shown = redact(message)
    assert not any(s in shown for s in secrets), shown
    assert "://" in shown or "/robot/send" in shown
