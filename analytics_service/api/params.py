"""Validation of query parameters; request input never reaches a query unchecked."""

from __future__ import annotations

from analytics_service.api.errors import BadRequest
from analytics_service.catalogue import CardKind
from analytics_service.catalogue.labels import LANGUAGES
from analytics_service.timeframes import TimeFrame

DEFAULT_RUN_LIMIT = 20
MAX_RUN_LIMIT = 100


def parse_time_frame(value: str | None, kind: CardKind) -> TimeFrame | None:
    if value is None:
        return None
    allowed = ", ".join(str(frame) for frame in kind.frames)
    try:
        frame = TimeFrame(value)
    except ValueError:
        raise BadRequest(f"invalid timeFrame {value!r}; expected one of {allowed}") from None
    if frame not in kind.frames:
        raise BadRequest(f"timeFrame {value!r} is not available for {kind} cards; expected one of {allowed}")
    return frame


def parse_accept_language(header: str) -> list[str]:
    """Return the primary language codes of an Accept-Language header, best first."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, raw = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(raw)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and quality > 0:
            weighted.append((-quality, position, primary))
    return [code for _, _, code in sorted(weighted)]


def choose_language(lang: str | None, accept_language: str | None) -> str:
    """Pick the label language: ``lang`` if given (and valid), else Accept-Language, else en."""
    if lang is not None:
        code = lang.strip().lower()
        if code not in LANGUAGES:
            raise BadRequest(f"invalid lang {lang!r}; expected one of {', '.join(LANGUAGES)}")
        return code
    for code in parse_accept_language(accept_language or ""):
        if code in LANGUAGES:
            return code
    return "en"


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_RUN_LIMIT
    # Only ASCII digits: str.isdigit() also accepts superscripts and other scripts' digits.
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_RUN_LIMIT:
        raise BadRequest(f"invalid limit {value!r}; expected an integer from 1 to {MAX_RUN_LIMIT}")
    return int(value)


def reject_unknown(query, allowed: set[str]) -> None:
    """Reject parameters outside ``allowed`` and parameters given more than once."""
    for name in set(query):
        if len(query.getall(name)) > 1:
            raise BadRequest(f"query parameter {name!r} is given more than once")
    unknown = sorted(set(query) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "none"
        raise BadRequest(f"unknown query parameter {unknown[0]!r}; expected {expected}")
