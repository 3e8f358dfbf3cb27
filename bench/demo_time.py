"""How long `yuqing demo` takes on this machine: the first run in a fresh data directory (which
also builds the default sentiment model) and a second run (model kept). Target: under 60 s.

    python bench/demo_time.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time


def run(data_dir: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "yuqing.cli", "demo", "--data-dir", data_dir],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"yuqing demo failed:\n{done.stdout}\n{done.stderr}")
    summary = [line for line in done.stdout.splitlines() if line.startswith(("Posts:", "Events:"))]
    print("  " + "\n  ".join(summary))
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        first = run(data_dir)
        print(f"first run (builds the sentiment model): {first:.1f} s")
        second = run(data_dir)
        print(f"second run (model kept): {second:.1f} s   (target: under 60 s)")


if __name__ == "__main__":
    main()
