"""Logging set-up for the command line: text or JSON lines on stderr, with secrets redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"

# (pattern, replacement) pairs applied in order to every rendered message.
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Header values in "Authorization: Bearer x", "authorization=x" and dict reprs such
    # as {'Authorization': 'Basic x'}. The value ends at a quote, comma, brace or line end.
    (re.compile(r"""(\bauthorization['"]?\s*[:=]\s*['"]?)[^'"\r\n,}]+""", re.IGNORECASE), rf"\1{REDACTED}"),
    (re.compile(r"\b(bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\1{REDACTED}"),
    # JWTs: base64url header starting with '{"' (eyJ), payload and a signature that an
    # unsigned token leaves empty.
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    # User info of MongoDB URIs. The match runs to the last '@' of the URI, so a password
    # with an unescaped '@' is still hidden whole.
    (re.compile(r"""(mongodb(?:\+srv)?://)[^\s'"<>]*@""", re.IGNORECASE), rf"\1{REDACTED}@"),
    # PEM private keys, e.g. from a GA4 service-account file, with real or escaped newlines.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL), REDACTED),
)

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    """Replace bearer tokens, JWTs, Authorization values, MongoDB URI credentials and PEM private keys."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Redact secrets from a record's message, arguments, exception text and string extras.

    The record is changed in place (Python 3.11 filters cannot return a copy), so
    handlers that run after this one see the redacted record too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        self._redact_message(record)

        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)

        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, key, redact(value))
        return True

    @staticmethod
    def _redact_message(record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            # The arguments do not fit the format string, so the handler will print the
            # format string and the arguments with a formatting error. Both are redacted,
            # and turning the arguments into text loses nothing because formatting fails anyway.
            record.msg = redact(str(record.msg))
            if isinstance(record.args, Mapping):
                record.args = {key: redact(str(value)) for key, value in record.args.items()}
            elif record.args:
                record.args = tuple(redact(str(arg)) for arg in record.args)
            return
        # Freeze the rendered message, so an argument's __str__ is not called again with
        # the secret in it.
        record.msg = redact(message)
        record.args = None


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, exc_info and the extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)

        for key, value in vars(record).items():
            if key in _RECORD_ATTRIBUTES:
                continue
            # An extra named like a core field is kept under a prefixed key.
            entry[f"extra_{key}" if key in entry else key] = value

        # default=str writes values json cannot encode (datetimes, ObjectIds) as text.
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):
    """A stream handler that looks up ``sys.stderr`` on every record.

    Binding the stream once would keep writing to a replaced or closed stream, e.g.
    after pytest's capsys swaps ``sys.stderr``.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # StreamHandler.__init__ and setStream assign here, but the stream stays sys.stderr


logger = logging.getLogger(__name__)

# The handler configure_logging installed on the root logger, replaced on the next call.
_handler: logging.Handler | None = None


def configure_logging(level: str, log_format: str = "text", *, force: bool = False) -> None:
    """Log records at ``level`` and above to stderr as ``text`` lines or ``json`` objects, one per line.

    Calling it again replaces the handler it installed before instead of adding a second one.
    Like ``logging.basicConfig``, it leaves the root logger alone when it already has handlers
    that this function did not install (pytest's capture, an embedding application's set-up)
    unless ``force`` is true, which removes and closes them. Raises ValueError on an unknown
    ``log_format`` or ``level``.
    """
    global _handler
    if log_format == "text":
        formatter: logging.Formatter = logging.Formatter(FORMAT)
    elif log_format == "json":
        formatter = JsonFormatter()
    else:
        raise ValueError(f"invalid log format {log_format!r}: expected 'text' or 'json'")
    # getLevelName maps a level name to its number and returns a string for unknown names.
    level_number = logging.getLevelName(level.upper())
    if not isinstance(level_number, int):
        raise ValueError(f"invalid log level {level!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL")

    # aiohttp's access log would repeat every probe request; warnings still show.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    root = logging.getLogger()
    foreign = [handler for handler in root.handlers if handler is not _handler]
    if foreign and not force:
        logger.warning(
            "logging is already configured by %s, so log level %s and format %s are not applied. "
            "Call configure_logging with force=True to replace those handlers.",
            ", ".join(type(handler).__name__ for handler in foreign), level, log_format,
        )
        return

    root.setLevel(level_number)
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()

    handler = _StderrHandler()
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    _handler = handler
