"""yuqing: Chinese public-opinion monitoring for political-legal press offices."""

from __future__ import annotations

__version__ = "0.1.0"
