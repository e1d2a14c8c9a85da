"""Logging set-up for the command line."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, log_format: str = "text") -> None:
    logging.basicConfig(level=level, format=FORMAT)
    # aiohttp's access log would repeat every probe request; warnings still show.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
