"""The one application context (config + database) the CLI or the daemon builds and passes down to the
stages (no global state). It knows no click: the command line wraps it (``yuqing.cli.app``)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Config, load_config, resolve_config_dir
from storage.db import make_engine, require_current, session_factory


@dataclass
class AppContext:
    """Config directory chosen on the command line; config, engine and sessions built on demand."""

    config_dir: Path
    environ: Mapping[str, str] | None = None  # what the config reads of the environment (None: os.environ)
    _config: Config | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)
    _sessions: sessionmaker[Session] | None = field(default=None, repr=False)

    @classmethod
    def create(cls, config_dir: str | os.PathLike[str] | None = None) -> AppContext:
        return cls(config_dir=resolve_config_dir(config_dir))

    @property
    def config(self) -> Config:
        """The validated configuration (raises ConfigError listing every problem)."""
        if self._config is None:
            self._config = load_config(self.config_dir, self.environ)
        return self._config

    def reload(self) -> Config:
        """Load the configuration again; the previous one stays if the new one is invalid."""
        fresh = load_config(self.config_dir, self.environ)
        self._config = fresh
        return fresh

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.config.database_url)
        return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = session_factory(self.engine)
        return self._sessions

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session on a migrated database; committed on success, rolled back on error."""
        require_current(self.engine)
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._sessions = None
