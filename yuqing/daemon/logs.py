"""Logging for the daemon's entry point (libraries never configure handlers): plain lines or one
JSON object per line, as ``settings.log_format`` says."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

EXTRA_FIELDS = ("job", "target", "outcome", "duration", "counts")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, job fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                data[name] = getattr(record, name)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(level: str, fmt: str, stream: Any = None) -> None:
    """Replace the root handlers with one stderr handler in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(PLAIN_FORMAT))
    logging.basicConfig(level=getattr(logging, level), handlers=[handler], force=True)
    # the daemon logs skipped and missed runs itself; alembic says "Context impl" on every check
    logging.getLogger("apscheduler").setLevel(max(logging.ERROR, getattr(logging, level)))
    logging.getLogger("alembic").setLevel(max(logging.WARNING, getattr(logging, level)))
