"""``scheduler.py`` is a top-level module, which import-linter cannot take as a root package: its
own imports are checked here (the daemon layer imports nothing of the command line or the demo)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ABOVE_THE_DAEMON = ("yuqing.cli", "yuqing.demo", "click")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (imports inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_scheduler_imports_nothing_above_the_daemon() -> None:
    found = imported_modules(ROOT / "scheduler.py")
    assert "yuqing.daemon.jobs" in found or "yuqing.daemon.plan" in found  # the walk sees real imports
    above = sorted(m for m in found if m.startswith(ABOVE_THE_DAEMON))
    assert not above, f"scheduler.py imports the layer above the daemon: {above}"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from yuqing.cli import main\n", encoding="utf-8")
    assert any(m.startswith(ABOVE_THE_DAEMON) for m in imported_modules(module))
