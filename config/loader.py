"""Read the YAML files of a config directory into validated models, reporting every problem in
every file at once, each with file, line, key and what is allowed."""

from __future__ import annotations

import difflib
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from config.alerts_model import AlertsFile, webhook_url_problem
from config.settings_model import SMTP_PASSWORD_ENV, Settings
from config.sources_model import SourcesFile
from config.topics_model import TopicsFile
from yuqing.base.errors import ConfigError, ConfigIssue

FILES: dict[str, type[BaseModel]] = {
    "settings.yaml": Settings,
    "sources.yaml": SourcesFile,
    "topics.yaml": TopicsFile,
    "alerts.yaml": AlertsFile,
}

SECRET_KEY_RE = re.compile(r"(password|passwd|pwd|secret|token|api_?key|access_?key|private_?key)$", re.I)
# scheme://[user]:password@host: an empty user (redis://:pw@host) and a password holding "/" or
# ":" included; "host:8080/@user" (a port, then a path with "@") is not a password.
CREDENTIAL_URL_RE = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/@\s:?#]*:(?!\d+(?:[/?#]|$))[^@\s]+@", re.I)
TOKEN_QUERY_RE = re.compile(
    r"[?&;](access_?token|token|key|api_?key|apikey|secret|client_secret|sign|signature|password|passwd|pwd|auth)=[^&\s]+",
    re.I,
)
URL_SCHEME_RE = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.I)
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Settings that the environment overrides (the environment wins over settings.yaml).
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "YUQING_DATA_DIR": ("data_dir",),
    "YUQING_DATABASE_URL": ("database_url",),
    "YUQING_REDIS_URL": ("redis_url",),
    "YUQING_TIMEZONE": ("timezone",),
    "YUQING_LOG_LEVEL": ("log_level",),
    "YUQING_MAIL_TRANSPORT": ("mail", "transport"),
    "YUQING_SMTP_HOST": ("mail", "smtp", "host"),
    "YUQING_SMTP_PORT": ("mail", "smtp", "port"),
    "YUQING_SMTP_SECURITY": ("mail", "smtp", "security"),
    "YUQING_SMTP_USERNAME": ("mail", "smtp", "username"),
}
# Where each secret really comes from (the only ways yuqing reads one), by settings.yaml path.
SECRET_ENV: dict[tuple[str, ...], str] = {
    ("mail", "smtp", "password"): SMTP_PASSWORD_ENV,
    ("database_url",): "YUQING_DATABASE_URL",
    ("redis_url",): "YUQING_REDIS_URL",
}
ALL_SECRET_ENVS = (
    f"{SMTP_PASSWORD_ENV} (SMTP password), YUQING_DATABASE_URL, YUQING_REDIS_URL, and the "
    "variables that alerts.yaml channels name with url_env / secret_env"
)


@dataclass(frozen=True)
class Loaded:
    """One YAML file as read: plain data plus the round-trip tree that knows line numbers."""

    name: str
    data: Any
    tree: Any


def read_yaml(path: Path, label: str, text: str | None = None) -> tuple[Loaded | None, list[ConfigIssue]]:
    """Parse one file (or ``text`` standing in for it); a syntax error becomes an issue with its
    line, never an exception."""
    if text is None and not path.exists():
        return Loaded(label, {}, CommentedMap()), []
    yaml = YAML(typ="rt")
    try:
        text = path.read_bytes().decode("utf-8-sig") if text is None else text
    except UnicodeDecodeError as exc:
        return None, [
            ConfigIssue(label, 0, "", f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8")
        ]
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        # The context mark is where the broken construct starts (an unclosed "[" or quote): the
        # line an admin must fix. The problem mark is where the parser gave up.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark else 0
        problem = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        if exc.context_mark and exc.problem_mark and exc.problem_mark.line != exc.context_mark.line:
            problem += f" (noticed at line {exc.problem_mark.line + 1})"
        return None, [
            ConfigIssue(label, line, "", f"YAML syntax error: {problem}; check indentation, colons and quotes")
        ]
    if tree is None:
        tree = CommentedMap()
    if not isinstance(tree, dict):
        return None, [ConfigIssue(label, 1, "", "must be a mapping of keys to values at the top level")]
    return Loaded(label, to_plain(tree), tree), []


def to_plain(node: Any) -> Any:
    """Round-trip YAML nodes → plain dicts, lists and scalars (strings stay ``str``)."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def line_of(tree: Any, loc: tuple[Any, ...]) -> int:
    """Line (1-based) of the deepest node along ``loc`` that exists in the YAML tree."""
    line = 1
    node = tree
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedMap) and isinstance(part, str) and node.lc.line is not None:
            continue  # a validator tag such as "function-after[…]" or a missing key: stay here
    return line


def item_id(node: Any) -> str:
    """The ``id`` of a list item that has one (a source, topic, group, channel), else ``""``."""
    ident = node.get("id") if isinstance(node, dict) else None
    return str(ident) if isinstance(ident, (str, int)) and not isinstance(ident, bool) and str(ident) else ""


def format_loc(loc: tuple[Any, ...], tree: Any = None) -> str:
    """``("topics", 2, "keywords")`` → ``topics[2].keywords``; given the file's ``tree``, an item
    that has an id is named by it too: ``sources[18] (id: city-forum).selectors``."""
    out = ""
    node = tree
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]  # a validator tag ("function-after[…]") is not in the tree: stay
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            ident = item_id(node)
            out += f" (id: {ident})" if ident else ""
        elif "[" in str(part) or "-" in str(part) and str(part).startswith(("function", "json")):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _unwrap(annotation: Any) -> list[Any]:
    """The classes an annotation may hold: ``list[Topic] | None`` → ``[Topic]``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict, tuple):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that sits at ``loc`` below ``model``."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            continue
        current = next((c for c in _unwrap(field.annotation) if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return current


def describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    """A pydantic error → a sentence for an admin, naming what is allowed."""
    kind = error["type"]
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    given = error.get("input")
    if kind == "extra_forbidden":
        parent = model_at(model, loc[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f"unknown key{hint}; allowed keys: {', '.join(allowed)}"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"must be one of: {ctx.get('expected', '')}".replace("'", "") + f" (got {given!r})"
    if kind in ("too_short", "too_long") and isinstance(given, list):
        if ctx.get("min_length") == 1:
            return "must be a non-empty list of strings"
        return f"must have between {ctx.get('min_length', 0)} and {ctx.get('max_length', '…')} items"
    if kind == "list_type":
        return f"must be a list (got {type(given).__name__}); write items on lines starting with '- '"
    if kind == "string_type":
        return f"must be a string (got {type(given).__name__} {given!r})"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number (got {given!r})"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number (got {given!r})"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false (got {given!r})"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of keys to values (got {type(given).__name__})"
    if kind == "string_pattern_mismatch":
        return f"{given!r} is not a valid id: use letters, digits, '_', '.', '-' (at most 64)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind.startswith(("greater_than", "less_than")):
        return error["msg"].replace("Input should be", "must be") + f" (got {given!r})"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    return error["msg"].replace("Input should be", "must be")


def validation_issues(loaded: Loaded, model: type[BaseModel], exc: ValidationError) -> list[ConfigIssue]:
    issues = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        issues.append(
            ConfigIssue(loaded.name, line_of(loaded.tree, loc), format_loc(loc, loaded.tree), describe(error, model))
        )
    return issues


def secret_hint(file: str, loc: tuple[Any, ...]) -> str:
    """Where the secret at ``loc`` really belongs: an environment variable that yuqing reads."""
    names = tuple(str(p) for p in loc if not isinstance(p, int))
    if file == "settings.yaml":
        if names in SECRET_ENV:
            return f"remove it here and set the environment variable {SECRET_ENV[names]} instead"
        if names[:2] == ("mail", "smtp"):
            return f"remove it here and set the environment variable {SMTP_PASSWORD_ENV} (the SMTP password) instead"
    if file == "alerts.yaml" and names[:1] == ("channels",) and len(loc) >= 2:
        ident = f"YUQING_{str(loc[1]).upper()}" if isinstance(loc[1], str) else "YUQING_CHANNEL"
        if names[-1:] and "url" in names[-1].lower():
            return f'put the URL in an environment variable and name it here with "url_env" (e.g. url_env: {ident}_URL)'
        return (
            'put it in an environment variable and name it here with "secret_env" '
            '(e.g. secret_env: YUQING_DINGTALK_SECRET), or put the whole webhook URL in the variable named by "url_env"'
        )
    if file == "sources.yaml":
        return (
            'put it in an environment variable and name it with "headers_env" / "cookies_env" '
            "(e.g. headers_env: {Authorization: YUQING_SITE_TOKEN})"
        )
    return f"secrets are read only from the environment: {ALL_SECRET_ENVS}"


def secret_issues(loaded: Loaded) -> list[ConfigIssue]:
    """Secrets belong in the environment: refuse them in YAML, with the variable that works. The
    value itself is never repeated in a message."""
    issues: list[ConfigIssue] = []
    file = Path(loaded.name).name

    def flag(loc: tuple[Any, ...], message: str) -> None:
        issues.append(
            ConfigIssue(
                loaded.name,
                line_of(loaded.tree, loc),
                format_loc(loc, loaded.tree),
                f"{message}; {secret_hint(file, loc)}",
            )
        )

    def env_names(node: Any, loc: tuple[Any, ...]) -> None:
        """Below a ``*_env`` key every value names a variable: anything else is a value pasted in."""
        if isinstance(node, dict):
            for key, value in node.items():
                env_names(value, (*loc, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                env_names(value, (*loc, i))
        elif node is not None and not (isinstance(node, str) and ENV_NAME_RE.match(node.strip())):
            flag(
                loc,
                "must be the NAME of an environment variable (letters, digits, '_'), not the value itself "
                "(it is not shown here)",
            )

    def walk(node: Any, loc: tuple[Any, ...]) -> None:
        key = str(loc[-1]) if loc and not isinstance(loc[-1], int) else ""
        if key.endswith("_env"):
            env_names(node, loc)
            return
        if isinstance(node, dict):
            for k, value in node.items():
                walk(value, (*loc, k))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*loc, i))
        elif isinstance(node, (str, int, float)) and not isinstance(node, bool) and str(node).strip() and loc:
            text = str(node)
            if key and SECRET_KEY_RE.search(key):
                flag(loc, "secrets must not be written in YAML")
            elif CREDENTIAL_URL_RE.search(text):
                flag(loc, "this URL carries a password")
            elif TOKEN_QUERY_RE.search(text) and URL_SCHEME_RE.search(text):
                flag(loc, "this URL carries a token or key")

    walk(loaded.data, ())
    return issues


def apply_env(data: dict[str, Any], environ: typing.Mapping[str, str]) -> dict[str, Any]:
    """Return settings data with environment overrides applied."""
    data = dict(data)
    for var, path in ENV_OVERRIDES.items():
        if environ.get(var):
            node = data
            for key in path[:-1]:
                node[key] = dict(node.get(key) or {})
                node = node[key]
            value = environ[var]
            node[path[-1]] = str(Path(value).expanduser().resolve()) if var == "YUQING_DATA_DIR" else value
    return data


def cross_file_issues(models: dict[str, BaseModel], trees: dict[str, Loaded]) -> list[ConfigIssue]:
    """References between files: groups name topics and channels that must exist."""
    topics = models.get("topics.yaml")
    alerts = models.get("alerts.yaml")
    if not isinstance(topics, TopicsFile) or not isinstance(alerts, AlertsFile):
        return []
    topic_ids = {t.id for t in topics.topics}
    channel_ids = {c.id for c in alerts.channels}
    issues = []
    tree = trees["alerts.yaml"].tree
    for gi, group in enumerate(alerts.groups):
        for ti, topic in enumerate(group.topics):
            if topic not in topic_ids:
                loc = ("groups", gi, "topics", ti)
                issues.append(
                    ConfigIssue(
                        "alerts.yaml",
                        line_of(tree, loc),
                        format_loc(loc, tree),
                        f'unknown topic "{topic}"; topics.yaml defines: {", ".join(sorted(topic_ids)) or "none"}',
                    )
                )
        for ci, channel in enumerate(group.channels):
            if channel not in channel_ids:
                loc = ("groups", gi, "channels", ci)
                issues.append(
                    ConfigIssue(
                        "alerts.yaml",
                        line_of(tree, loc),
                        format_loc(loc, tree),
                        f'unknown channel "{channel}"; alerts.yaml defines: {", ".join(sorted(channel_ids)) or "none"}',
                    )
                )
    return issues


def webhook_env_issues(alerts: AlertsFile, loaded: Loaded, environ: typing.Mapping[str, str]) -> list[ConfigIssue]:
    """A webhook URL set in the environment that could never be posted to (a space inside it, no
    https://, a bad port) is reported at start, at the channel's ``url_env`` line, never echoed."""
    issues = []
    for ci, channel in enumerate(alerts.channels):
        value = environ.get(channel.url_env or "")
        problem = webhook_url_problem(value) if value is not None and channel.url_env else None
        if problem:
            loc = ("channels", ci, "url_env")
            issues.append(
                ConfigIssue(
                    loaded.name,
                    line_of(loaded.tree, loc),
                    format_loc(loc, loaded.tree),
                    f"environment variable {channel.url_env} {problem} (its value is not shown: it "
                    f"holds the robot's token); set {channel.url_env} to the webhook URL exactly "
                    "as the service shows it, e.g. https://oapi.dingtalk.com/robot/send?access_token=…",
                )
            )
    return issues


def load_models(
    config_dir: Path, environ: typing.Mapping[str, str], overrides: typing.Mapping[str, str] | None = None
) -> dict[str, BaseModel]:
    """Validate every file; raise one ConfigError listing every problem in every file.
    ``overrides`` maps a file name to text that stands in for it (to validate an edit before
    it is written)."""
    if not config_dir.is_dir():
        raise ConfigError(
            [ConfigIssue(str(config_dir), 0, "", "config directory does not exist")],
            hint="pass --config DIR or set YUQING_CONFIG_DIR to a directory holding settings.yaml, sources.yaml, topics.yaml and alerts.yaml",
        )
    issues: list[ConfigIssue] = []
    models: dict[str, BaseModel] = {}
    trees: dict[str, Loaded] = {}
    for name, model in FILES.items():
        label = display_path(config_dir / name)
        loaded, problems = read_yaml(config_dir / name, label, (overrides or {}).get(name))
        issues += problems
        if loaded is None:
            continue
        trees[name] = loaded
        secrets = secret_issues(loaded)
        issues += secrets
        data = apply_env(loaded.data, environ) if model is Settings else loaded.data
        try:
            models[name] = model.model_validate(data)
        except ValidationError as exc:
            # A message about a flagged key could repeat the secret ("got '…'"): the secret's own issue says enough.
            flagged = {issue.key for issue in secrets}
            issues += [i for i in validation_issues(loaded, model, exc) if i.key not in flagged]
    alerts = models.get("alerts.yaml")
    if isinstance(alerts, AlertsFile):
        issues += webhook_env_issues(alerts, trees["alerts.yaml"], environ)
    if len(models) == len(FILES):
        for issue in cross_file_issues(models, trees):
            issues.append(ConfigIssue(trees["alerts.yaml"].name, issue.line, issue.key, issue.message))
    if issues:
        raise ConfigError(issues)
    return models


def display_path(path: Path) -> str:
    """A path as an admin would type it: relative to the working directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
