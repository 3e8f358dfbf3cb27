"""The ``yuqing`` command line: one group, one command per admin action.

Commands of each stage live beside the stage (``crawlers/cli.py``, ``nlp/cli.py`` …) and are loaded
only when called, so ``yuqing --help`` stays fast and a stage's dependencies load on demand.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from storage.context import AppContext
from yuqing import __version__
from yuqing.base.errors import ConfigError, YuqingError
from yuqing.base.private import private_files

# command name → "module:attribute"; each stage registers its commands here.
LAZY_COMMANDS: dict[str, str] = {
    "init": "yuqing.cli.commands:init",
    "config": "yuqing.cli.commands:config_group",
    "doctor": "yuqing.cli.commands:doctor",
    "run": "yuqing.cli.daemon:run_command",
    "status": "yuqing.cli.daemon:status_command",
    "demo": "yuqing.cli.demo:demo",
    "digest": "yuqing.cli.alerts:digest_command",
    "alerts": "yuqing.cli.alerts:alerts_group",
    "deliveries": "yuqing.cli.alerts:deliveries_group",
    "report": "yuqing.cli.report:report_group",
    "topics": "yuqing.cli.tune:topics_group",
    "keywords": "yuqing.cli.keywords:keywords_group",
    "rules": "yuqing.cli.rules:rules_group",
    "crawl": "yuqing.cli.crawl:crawl",
    "sources": "yuqing.cli.crawl:sources_group",
    "extract": "yuqing.cli.crawl:extract",
    "analyze": "yuqing.cli.analyse:analyze",
    "train": "yuqing.cli.analyse:train_group",
    "label": "yuqing.cli.analyse:label",
    "posts": "yuqing.cli.posts:posts_group",
    "classify": "yuqing.cli.analyse:classify",
    "eval": "yuqing.cli.analyse:eval_group",
    "web": "yuqing.cli.web:web_command",
    "users": "yuqing.cli.web:users_group",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported when first used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, attr = LAZY_COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)


class Main(LazyGroup):
    """Turns every YuqingError into ``Error: …`` plus a hint and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            click.echo(f"Hint: {exc.hint}", err=True)
            sys.exit(1)
        except YuqingError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            sys.exit(1)


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_dir",
    envvar="YUQING_CONFIG_DIR",
    type=click.Path(file_okay=False),
    help="Config directory (default: the shipped config/; env YUQING_CONFIG_DIR).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug details to stderr.")
@click.version_option(__version__, "-V", "--version", prog_name="yuqing")
@click.pass_context
def cli(ctx: click.Context, config_dir: str | None, verbose: bool) -> None:
    """yuqing: Chinese public-opinion monitoring (舆情监测) for political-legal press offices.

    \b
    Example:
      yuqing init && yuqing doctor
      yuqing --config /etc/yuqing config check
    """
    private_files()  # the database and the outbox hold personal data: 0600 files, 0700 folders
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = AppContext.create(config_dir)
    ctx.obj = app
    ctx.call_on_close(app.close)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="yuqing")


if __name__ == "__main__":
    main()
