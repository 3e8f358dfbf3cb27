"""``python -m yuqing.daemon.isolated JOB CONFIG_DIR [ARG]``: run one stage job (``analyze``,
``digest GROUP``, ``retry``) in a process of its own, so that what a stage loads (models, fonts,
templates) is freed when it ends and a stuck run can be killed. The last line on stdout is a
summary the daemon reads: ``YUQING-JOB {"outcome": …, "counts": {…}}``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from storage.context import AppContext
from yuqing.base.clock import utcnow
from yuqing.base.private import private_files
from yuqing.base.process import tail
from yuqing.daemon.logs import configure_logging
from yuqing.daemon.stages import STAGE_JOBS

PREFIX = "YUQING-JOB "


def read_summary(log_path: Path) -> tuple[str, dict[str, Any]] | None:
    """The summary line of a finished run, or ``None`` when the process died before printing it."""
    for line in reversed(tail(log_path, 8000).splitlines()):
        if line.startswith(PREFIX):
            data = json.loads(line[len(PREFIX) :])
            return str(data["outcome"]), dict(data["counts"])
    return None


def main(argv: list[str]) -> int:
    """Run the job named by ``argv[0]`` with the config in ``argv[1]``; print the summary."""
    if len(argv) < 2 or argv[0] not in STAGE_JOBS:
        print(f"usage: python -m yuqing.daemon.isolated {{{','.join(STAGE_JOBS)}}} CONFIG_DIR [ARG]", file=sys.stderr)
        return 2
    private_files()
    app = AppContext.create(argv[1])
    settings = app.config.settings
    configure_logging(settings.log_level, settings.log_format, stream=sys.stderr)
    try:
        outcome, counts = STAGE_JOBS[argv[0]](app, utcnow(), *argv[2:])
    finally:
        app.close()
    print(PREFIX + json.dumps({"outcome": outcome, "counts": counts}, ensure_ascii=False, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
