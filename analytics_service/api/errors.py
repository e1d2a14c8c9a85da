"""JSON error bodies: every failure returns ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging

from aiohttp import web
from pymongo.errors import PyMongoError

logger = logging.getLogger(__name__)

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    503: "unavailable",
}


class ApiError(Exception):
    """An HTTP error with a stable machine-readable code and a message for people."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status
        self.code = code
        self.message = message
        self.headers = headers


class BadRequest(ApiError):
    def __init__(self, message: str, code: str = "invalid_parameter") -> None:
        super().__init__(400, code, message)


class NotFound(ApiError):
    def __init__(self, message: str, code: str = "not_found") -> None:
        super().__init__(404, code, message)


class Unauthorized(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="analytics"'})


class Conflict(ApiError):
    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(409, code, message)


class Forbidden(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(403, "forbidden", message)


def error_response(status: int, code: str, message: str, headers=None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error.status_code, error.code, error.message, headers=error.headers)
    except web.HTTPException as error:
        if error.status_code < 400:
            raise
        code = _CODES_BY_STATUS.get(error.status_code, "http_error")
        message = error.reason if error.status_code != 404 else f"no route for {request.method} {request.path}"
        if error.status_code == 403:
            message = error.reason or "permission denied"
        headers = {key: value for key, value in error.headers.items() if key.lower() in {"allow", "www-authenticate"}}
        return error_response(error.status_code, code, message, headers=headers or None)
    except PyMongoError as error:
        logger.warning("database error on %s %s: %s", request.method, request.path, error)
        return error_response(503, "database_unavailable", "the database is not answering; retry later",
                              headers={"Retry-After": "5"})
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal server error; the service log has the details")
