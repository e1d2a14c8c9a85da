"""Command line: ``analytics-service serve | sync | demo | import``.

Exit codes: 0 success, 1 when a card or an imported line failed (the rest went on),
2 on invalid configuration or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from analytics_service.errors import ConfigurationError
from analytics_service.logs import configure_logging
from analytics_service.settings import load_settings

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_CONFIGURATION = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer of at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="analytics-service",
        description="Compute the news platform's dashboard cards on a schedule and serve them over HTTP.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="run the HTTP API and the scheduled sync in one process")
    sync = commands.add_parser("sync", help="refresh every card once, then exit (1 if any card failed)")
    sync.add_argument("--rebuild", action="store_true",
                      help="recount every rollup from the whole source collections instead of the update window")
    demo = commands.add_parser("demo", help="load demo data, sync once, then serve; prints a URL and a token")
    source = demo.add_mutually_exclusive_group()
    source.add_argument("--dataset", type=Path, metavar="DIR",
                        help="load this mongoexport directory instead of generated data")
    source.add_argument("--scale", type=_positive_int, default=1, metavar="N",
                        help="multiply the generated data by N (default 1)")
    load = commands.add_parser("import", help="load a mongoexport directory (one file per collection)")
    load.add_argument("directory", type=Path, metavar="DIR")
    load.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIGURATION
    configure_logging(settings.log_level, settings.log_format)
    logger.info("configuration: %s", settings.redacted_summary())

    from analytics_service import commands  # imported late: pulls in aiohttp and the engine

    try:
        if arguments.command == "serve":
            return commands.serve(settings)
        if arguments.command == "sync":
            return asyncio.run(commands.sync_once(settings, rebuild=arguments.rebuild))
        if arguments.command == "demo":
            return commands.demo(settings, dataset=arguments.dataset, scale=arguments.scale)
        return asyncio.run(commands.import_export(settings, arguments.directory, progress=not arguments.no_progress))
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIGURATION


