"""Tests of configure_logging: JSON lines, text lines, secret redaction and handler reuse."""

from __future__ import annotations

import io
import json
import logging

import pytest

from analytics_service import logs
from analytics_service.logs import REDACTED, RedactingFilter, configure_logging, redact

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiI2NTAwMDAwMDAwMDAwMDAwMDAwMDAwMDEiLCJleHAiOjE4MDAwMDAwMDB9"
    ".c2lnbmF0dXJlLWJ5dGVzLW9mLXRoZS10b2tlbg"
)
MONGODB_PASSWORD = "s3cr3t-Pa55"
BASIC_CREDENTIALS = "dXNlcjpzM2NyM3Q="

logger = logging.getLogger("analytics_service.tests.logs")


@pytest.fixture(autouse=True)
def detach():
    """Provide a function that detaches the root handlers, and restore the loggers after the test.

    pytest puts capture handlers on the root logger for the whole session and for each test
    phase, and configure_logging leaves a root logger with handlers alone, so a test calls
    ``detach()`` before configure_logging. Teardown re-attaches the session handlers, and
    pytest itself removes the handlers of the test phase.
    """
    root = logging.getLogger()
    access = logging.getLogger("aiohttp.access")
    setup_handlers = list(root.handlers)
    saved_level = root.level
    saved_access_level = access.level
    saved_installed = logs._handler
    logs._handler = None
    detached: list[logging.Handler] = []

    def detach_root_handlers() -> None:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            detached.append(handler)

    yield detach_root_handlers

    for handler in installed_handlers():
        root.removeHandler(handler)
        handler.close()
    for handler in detached:
        if handler in setup_handlers and handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(saved_level)
    access.setLevel(saved_access_level)
    logs._handler = saved_installed


def installed_handlers() -> list[logging.Handler]:
    return [handler for handler in logging.getLogger().handlers if isinstance(handler, logs._StderrHandler)]


def json_lines(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def test_json_line_has_core_fields(capsys, detach):
    detach()
    configure_logging("INFO", "json")

    logger.info("run %s started: cards=%d", "abc123", 7)

    [entry] = json_lines(capsys.readouterr().err)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "analytics_service.tests.logs"
    assert entry["message"] == "run abc123 started: cards=7"
    assert entry["time"].endswith("Z")
    assert "T" in entry["time"]
    assert "exc_info" not in entry


def test_json_line_carries_extras(capsys, detach):
    detach()
    configure_logging("INFO", "json")

    logger.warning("card failed", extra={"run_id": "r-1", "card_id": "usersTotalRegistered", "attempt": 2})

    [entry] = json_lines(capsys.readouterr().err)
    assert entry["run_id"] == "r-1"
    assert entry["card_id"] == "usersTotalRegistered"
    assert entry["attempt"] == 2


def test_json_extra_named_like_core_field(capsys, detach):
    detach()
    configure_logging("INFO", "json")

    logger.info("hello", extra={"level": "custom"})

    [entry] = json_lines(capsys.readouterr().err)
    assert entry["level"] == "INFO"
    assert entry["extra_level"] == "custom"


def test_json_extra_not_serializable_is_text(capsys, detach):
    detach()
    configure_logging("INFO", "json")

    logger.info("hello", extra={"payload": {1, 2}})

    [entry] = json_lines(capsys.readouterr().err)
    assert entry["payload"] == "{1, 2}"


def test_json_line_carries_exception(capsys, detach):
    detach()
    configure_logging("INFO", "json")

    try:
        raise ValueError("bad card data")
    except ValueError:
        logger.exception("card %s failed", "usersTotalRegistered")

    [entry] = json_lines(capsys.readouterr().err)
    assert entry["level"] == "ERROR"
    assert entry["message"] == "card usersTotalRegistered failed"
    assert entry["exc_info"].startswith("Traceback (most recent call last):")
    assert "ValueError: bad card data" in entry["exc_info"]


def test_json_multiline_message_stays_one_line(capsys, detach):
    detach()
    configure_logging("INFO", "json")

    logger.info("first line\nsecond line")

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["message"] == "first line\nsecond line"


def test_level_filters_records(capsys, detach):
    detach()
    configure_logging("warning", "json")

    logger.info("hidden")
    logger.warning("shown")

    entries = json_lines(capsys.readouterr().err)
    assert [entry["message"] for entry in entries] == ["shown"]


def test_text_format_unchanged(capsys, detach):
    detach()
    configure_logging("INFO", "text")

    logger.info("run %s started", "abc123")

    line = capsys.readouterr().err.strip()
    assert line.endswith(" INFO analytics_service.tests.logs: run abc123 started")


def test_invalid_format_raises(detach):
    detach()
    with pytest.raises(ValueError, match="invalid log format 'xml'"):
        configure_logging("INFO", "xml")


def test_configure_twice_keeps_one_handler(capsys, detach):
    detach()
    configure_logging("INFO", "text")
    configure_logging("INFO", "json")
    configure_logging("INFO", "json")

    logger.info("once")

    assert len(installed_handlers()) == 1
    assert len(json_lines(capsys.readouterr().err)) == 1


def test_foreign_handler_left_alone(capsys, detach):
    detach()
    stream = io.StringIO()
    foreign = logging.StreamHandler(stream)
    logging.getLogger().addHandler(foreign)
    try:
        configure_logging("INFO", "json")
    finally:
        logging.getLogger().removeHandler(foreign)

    assert installed_handlers() == []
    assert "logging is already configured by StreamHandler" in stream.getvalue()
    assert capsys.readouterr().err == ""


def test_force_replaces_foreign_handler(capsys, detach):
    detach()
    foreign = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(foreign)

    configure_logging("INFO", "json", force=True)
    logger.info("after force")

    assert foreign not in logging.getLogger().handlers
    assert len(installed_handlers()) == 1
    assert [entry["message"] for entry in json_lines(capsys.readouterr().err)] == ["after force"]


def test_invalid_level_raises(detach):
    detach()
    with pytest.raises(ValueError, match="invalid log level 'LOUD'"):
        configure_logging("LOUD", "text")

    assert installed_handlers() == []


def test_access_logger_stays_at_warning(detach):
    detach()
    configure_logging("DEBUG", "text")

    assert logging.getLogger("aiohttp.access").level == logging.WARNING


SECRET_CASES = [
    ("jwt", "token %s accepted", (JWT,), JWT),
    ("bearer", "sent Authorization header %s", (f"Bearer {JWT}",), JWT),
    ("authorization_header", "request headers: Authorization: Basic %s", (BASIC_CREDENTIALS,), BASIC_CREDENTIALS),
    ("authorization_dict", "request headers: %s", ({"Authorization": f"Basic {BASIC_CREDENTIALS}"},),
     BASIC_CREDENTIALS),
    ("mongodb", "connecting to %s", (f"mongodb://analytics:{MONGODB_PASSWORD}@db.internal:27017/news",),
     MONGODB_PASSWORD),
    ("mongodb_srv", "connecting to %s", (f"mongodb+srv://analytics:{MONGODB_PASSWORD}@cluster0.example.net/news",),
     MONGODB_PASSWORD),
    ("mongodb_at_in_password", "connecting to %s", ("mongodb://analytics:p@ss@db.internal/news",), "p@ss"),
    ("in_format_string", f"connecting to mongodb://analytics:{MONGODB_PASSWORD}@db.internal/news", (),
     MONGODB_PASSWORD),
]


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize(("message", "args", "secret"), [case[1:] for case in SECRET_CASES],
                         ids=[case[0] for case in SECRET_CASES])
def test_secret_redacted(capsys, detach, log_format, message, args, secret):
    detach()
    configure_logging("INFO", log_format)

    logger.info(message, *args)

    stderr = capsys.readouterr().err
    assert stderr
    assert secret not in stderr
    assert REDACTED in stderr


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secret_in_exception_redacted(capsys, detach, log_format):
    detach()
    configure_logging("INFO", log_format)

    try:
        raise ConnectionError(f"cannot reach mongodb://analytics:{MONGODB_PASSWORD}@db.internal/news")
    except ConnectionError:
        logger.exception("database ping failed")

    stderr = capsys.readouterr().err
    assert "ConnectionError: cannot reach mongodb://[redacted]@db.internal/news" in stderr
    assert MONGODB_PASSWORD not in stderr


def test_secret_in_extra_redacted(capsys, detach):
    detach()
    configure_logging("INFO", "json")

    logger.info("provider request", extra={"header": f"Bearer {JWT}"})

    [entry] = json_lines(capsys.readouterr().err)
    assert entry["header"] == f"Bearer {REDACTED}"


def test_redaction_keeps_surrounding_text():
    text = f"GET /api with Authorization: Bearer {JWT}, then mongodb://u:{MONGODB_PASSWORD}@h:27017/db done"

    assert redact(text) == "GET /api with Authorization: [redacted], then mongodb://[redacted]@h:27017/db done"


def test_redaction_hides_private_key():
    text = 'credentials {"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN\\n-----END PRIVATE KEY-----\\n"}'

    assert redact(text) == 'credentials {"private_key": "[redacted]\\n"}'


def test_redaction_leaves_plain_text_alone():
    text = "run 5f2b started: cards=12 mongodb://db.internal:27017/news eyJ-is-not-a-token"

    assert redact(text) == text


def test_filter_handles_mismatched_arguments():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s and %s", (JWT,), None)

    assert RedactingFilter().filter(record)

    assert record.args == (REDACTED,)


def test_stringio_handler_sees_redacted_record():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("token %s", JWT)
    finally:
        logger.removeHandler(handler)

    assert stream.getvalue() == f"token {REDACTED}\n"
