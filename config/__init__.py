"""The admins' configuration: YAML files in this directory (the shipped defaults) or in the
directory given by ``--config DIR`` / ``YUQING_CONFIG_DIR``, loaded into validated models."""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass
from pathlib import Path

from config.alerts_model import AlertsFile
from config.loader import load_models
from config.settings_model import Settings
from config.sources_model import Source, SourcesFile
from config.topics_model import Topic, TopicsFile

SHIPPED_DIR = Path(__file__).resolve().parent

__all__ = ["Config", "copy_shipped", "load_config", "resolve_config_dir", "SHIPPED_DIR", "Source", "Topic"]


def copy_shipped(target: Path, data_dir: Path) -> Path:
    """Copy the shipped YAML files into ``target`` with ``data_dir`` set in its settings.yaml
    (a config directory of its own for a test, a benchmark or a trial); returns ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for path in SHIPPED_DIR.glob("*.yaml"):
        (target / path.name).write_bytes(path.read_bytes())
    settings = target / "settings.yaml"
    text = settings.read_text(encoding="utf-8").replace("\ndata_dir:\n", f"\ndata_dir: {data_dir}\n", 1)
    settings.write_text(text, encoding="utf-8")
    return target


def resolve_config_dir(
    explicit: str | os.PathLike[str] | None = None, environ: typing.Mapping[str, str] | None = None
) -> Path:
    """``--config DIR`` wins, then ``YUQING_CONFIG_DIR``, then the shipped ``config/``."""
    environ = os.environ if environ is None else environ
    chosen = explicit or environ.get("YUQING_CONFIG_DIR")
    return Path(chosen).expanduser().resolve() if chosen else SHIPPED_DIR


def default_data_dir(environ: typing.Mapping[str, str]) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "yuqing"


def resolve_data_dir(config_dir: Path, configured: str | None, environ: typing.Mapping[str, str]) -> Path:
    """The data dir of a config dir: ``data_dir`` of settings.yaml (relative to the config dir), else
    the default."""
    if configured and configured.strip():
        path = Path(configured).expanduser()
        return path if path.is_absolute() else (config_dir / path).resolve()
    return default_data_dir(environ)


@dataclass(frozen=True)
class Config:
    """Everything admins configured, validated; build it with :func:`load_config`."""

    dir: Path
    settings: Settings
    sources: SourcesFile
    topics: TopicsFile
    alerts: AlertsFile
    data_dir: Path

    @property
    def database_url(self) -> str:
        """``YUQING_DATABASE_URL`` / ``database_url``, else SQLite in the data dir."""
        return self.settings.database_url or f"sqlite:///{self.data_dir / 'yuqing.db'}"

    @property
    def outbox_dir(self) -> Path:
        configured = self.settings.mail.outbox_dir
        return self._resolve(configured) if configured else self.data_dir / "outbox"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def _resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.dir / path).resolve()


def load_config(
    config_dir: str | os.PathLike[str] | None = None, environ: typing.Mapping[str, str] | None = None
) -> Config:
    """Load and validate every file of the config directory; raise ``ConfigError`` listing
    every problem found. Relative paths in settings are relative to the config directory."""
    environ = os.environ if environ is None else environ
    directory = resolve_config_dir(config_dir, environ)
    models = load_models(directory, environ)
    settings = typing.cast(Settings, models["settings.yaml"])
    data_dir = resolve_data_dir(directory, settings.data_dir, environ)
    return Config(
        dir=directory,
        settings=settings,
        sources=typing.cast(SourcesFile, models["sources.yaml"]),
        topics=typing.cast(TopicsFile, models["topics.yaml"]),
        alerts=typing.cast(AlertsFile, models["alerts.yaml"]),
        data_dir=data_dir,
    )
