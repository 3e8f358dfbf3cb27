"""``python -m yuqing.base.child PARENT_PID -- COMMAND …``: run COMMAND so that it gets SIGTERM
when the daemon that started it dies (even by SIGKILL), so a crawl never outlives its daemon and a
restarted daemon never runs a second crawl of the same source beside an orphan."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    """Set the parent-death signal, check the parent is still there, then exec the command."""
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m yuqing.base.child PARENT_PID -- COMMAND [ARG …]", file=sys.stderr)
        return 2
    parent, command = int(argv[0]), argv[2:]
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the daemon still kills its crawls on shutdown and on timeout
    if os.getppid() != parent:
        return 1  # the daemon died before we could arm the signal
    os.execvp(command[0], command)
    return 127  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
