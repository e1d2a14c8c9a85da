"""A fake Mixpanel Query API for tests: an aiohttp app that serves /api/query/segmentation.

It checks Basic auth and ``project_id`` on every request and computes responses from an
in-memory event table. Like the real endpoint, it supports ``type`` general and unique,
``unit=day``, ``on``, ``limit``, and ``where`` conditions of the form
``properties["name"] == <JSON literal>`` joined with ``and``. Its responses have the real
shape: ``series`` comes in reverse date order and value maps leave out days without events.

Tests can also make it serve a payload file, or script the next responses (429, 5xx, 401,
400, malformed bodies, slow responses). It counts requests in flight to check concurrency.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "mixpanel"

PROJECT_ID = "2526451"
USERNAME = "dashboard-reader.8d1f2c.mp-service-account"
SECRET = "not-a-real-secret-5e3b"

CONDITION = re.compile(
    r'properties\["(?P<name>[A-Za-z0-9_]+)"\]\s*==\s*(?P<literal>-?\d+|"(?:[^"\\]|\\.)*")(?:\s+and\s+|$)'
)
ON_EXPRESSION = re.compile(r'properties\["(?P<name>[A-Za-z0-9_]+)"\]')


@dataclass(frozen=True)
class FakeEvent:
    name: str
    day: date
    user: str
    properties: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class ScriptedResponse:
    """A response that the fake sends instead of computing one."""

    status: int = 200
    body: str | bytes = ""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    query: dict[str, str]
    authorization: str | None


class FakeMixpanel:
    """In-memory Mixpanel project with an event table and scripted failures."""

    def __init__(self) -> None:
        self.events: list[FakeEvent] = []
        self.requests: list[RecordedRequest] = []
        self.scripted: deque[ScriptedResponse] = deque()
        self.payload_file: str | None = None
        self.delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0

    def add(self, name: str, day: date, user: str = "user-1", count: int = 1, **properties: str | int) -> None:
        self.events.extend(FakeEvent(name, day, user, dict(properties)) for _ in range(count))

    def then(self, status: int = 200, body: str | bytes | dict = "", **options) -> None:
        """Queue a scripted response. A dict body is sent as JSON."""
        if isinstance(body, dict):
            body = json.dumps(body)
        self.scripted.append(ScriptedResponse(status, body, **options))

    def serve_payload(self, name: str) -> None:
        """Serve the payload file ``name`` as the response to every segmentation request."""
        self.payload_file = name

    def segmentation_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path.endswith("/segmentation")]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/query/segmentation", self._segmentation)
        return app

    async def _segmentation(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        authorization = request.headers.get("Authorization")
        self.requests.append(RecordedRequest(request.path, query, authorization))

        if authorization != basic_authorization(USERNAME, SECRET):
            return error_response(401, "Unable to authenticate request")
        if query.get("project_id") != PROJECT_ID:
            # The fake's choice: real Mixpanel wording for this case is not published.
            return error_response(403, f"Permission denied for project_id {query.get('project_id')!r}")

        if self.scripted:
            scripted = self.scripted.popleft()
            await asyncio.sleep(scripted.delay)
            return web.Response(
                status=scripted.status,
                body=scripted.body.encode() if isinstance(scripted.body, str) else scripted.body,
                headers=scripted.headers,
                content_type=scripted.content_type,
            )
        await asyncio.sleep(self.delay)
        if self.payload_file is not None:
            return web.Response(body=(FIXTURES / self.payload_file).read_bytes(), content_type="application/json")
        try:
            return web.json_response(self._compute(query))
        except ValueError as error:
            return error_response(400, str(error))

    def _compute(self, query: dict[str, str]) -> dict:
        for required in ("event", "from_date", "to_date"):
            if required not in query:
                raise ValueError(f"missing required parameter {required}")
        if query.get("unit", "day") != "day":
            raise ValueError("the fake supports only unit=day")
        count_type = query.get("type", "general")
        if count_type not in ("general", "unique"):
            raise ValueError(f"the fake does not support type={count_type}")

        start, end = date.fromisoformat(query["from_date"]), date.fromisoformat(query["to_date"])
        conditions = parse_where(query.get("where", ""))
        on = parse_on(query["on"]) if "on" in query else None
        limit = int(query.get("limit", "60"))

        matching = [
            event
            for event in self.events
            if event.name == query["event"]
            and start <= event.day <= end
            and all(_same_typed_value(event.properties.get(name), value) for name, value in conditions)
        ]
        if on is None:
            groups = {query["event"]: matching} if matching else {}
        else:
            groups = {}
            for event in matching:
                if on in event.properties:
                    groups.setdefault(str(event.properties[on]), []).append(event)
            sizes = Counter({name: len(events) for name, events in groups.items()})
            groups = {name: groups[name] for name, _ in sizes.most_common(limit)}

        values = {name: _daily_counts(events, count_type) for name, events in groups.items()}
        days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
        return {
            "data": {"series": [day.isoformat() for day in reversed(days)], "values": values},
            "legend_size": len(values),
        }


def _daily_counts(events: list[FakeEvent], count_type: str) -> dict[str, int]:
    if count_type == "general":
        return dict(Counter(event.day.isoformat() for event in events))
    users_by_day: dict[str, set[str]] = {}
    for event in events:
        users_by_day.setdefault(event.day.isoformat(), set()).add(event.user)
    return {day: len(users) for day, users in users_by_day.items()}


def _same_typed_value(actual: object, expected: object) -> bool:
    # The string "0" does not match the number 0, so a wrongly quoted filter finds nothing.
    return type(actual) is type(expected) and actual == expected


def parse_where(text: str) -> list[tuple[str, str | int]]:
    """Parse ``properties["a"] == 1 and properties["b"] == "x"`` into typed conditions."""
    conditions = []
    position = 0
    while position < len(text):
        match = CONDITION.match(text, position)
        if match is None:
            raise ValueError(f"the fake cannot parse where expression {text!r} at position {position}")
        conditions.append((match["name"], json.loads(match["literal"])))
        position = match.end()
    return conditions


def parse_on(text: str) -> str:
    match = ON_EXPRESSION.fullmatch(text)
    if match is None:
        raise ValueError(f"the fake cannot parse on expression {text!r}")
    return match["name"]


def basic_authorization(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "status": "error"}, status=status)
