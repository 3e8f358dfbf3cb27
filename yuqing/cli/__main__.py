"""``python -m yuqing.cli``: the ``yuqing`` command line."""

from __future__ import annotations

from yuqing.cli import main

main()
