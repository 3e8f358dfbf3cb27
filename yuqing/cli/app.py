"""The click side of the application context: the decorator that hands commands the ``AppContext``."""

from __future__ import annotations

import click

from storage.context import AppContext

pass_app = click.make_pass_decorator(AppContext)
"""Decorator for commands: passes the AppContext the ``yuqing`` group built."""
