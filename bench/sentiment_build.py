"""Time to build the default sentiment model (what happens on first use), wall-clock and CPU.

.venv/bin/python bench/sentiment_build.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import SHIPPED_DIR, load_config  # noqa: E402
from nlp.job import build_segmenter  # noqa: E402
from nlp.modelstore import build_default  # noqa: E402


def main() -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    model = build_default(build_segmenter(load_config(SHIPPED_DIR, environ={})))
    print(
        f"default model {model.version}: {model.info['samples']} examples, "
        f"{time.perf_counter() - wall:.1f}s wall, {time.process_time() - cpu:.1f}s CPU"
    )
    again = build_default(build_segmenter(load_config(SHIPPED_DIR, environ={})))
    print(
        f"rebuilt: {again.version} ({'identical version: reproducible' if again.version == model.version else 'DIFFERENT'})"
    )


if __name__ == "__main__":
    main()
