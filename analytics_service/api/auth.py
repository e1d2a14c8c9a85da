"""Bearer-token authentication and the ``analytics.read`` permission (aiohttp-security).

Tokens are JWTs signed with HS256 and ``ANALYTICS_JWT_SECRET``; ``exp`` and ``sub`` are
required and the algorithm is pinned, so ``alg: none`` and other algorithms fail. The
subject is a user id: the user's role in the ``users`` document grants permissions
(``admin`` has ``analytics.read``). Machine clients carry a ``permissions`` claim.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from aiohttp import web
from aiohttp_security import authorized_userid, permits
from aiohttp_security.abc import AbstractAuthorizationPolicy, AbstractIdentityPolicy
from bson import ObjectId
from bson.errors import InvalidId

from analytics_service.api.errors import Forbidden, Unauthorized

ALGORITHM = "HS256"
READ_PERMISSION = "analytics.read"
SYNC_PERMISSION = "analytics.sync"
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {"admin": frozenset({READ_PERMISSION, SYNC_PERMISSION})}
# Role lookups are cached briefly so a dashboard opening a dozen cards costs one query.
ROLE_CACHE_SECONDS = 30.0

_PRINCIPAL_KEY = web.RequestKey("analytics_principal", object)


@dataclass(frozen=True)
class Principal:
    """The verified claims of a request's token."""

    subject: str
    permissions: frozenset[str]


def decode_token(token: str, secret: str) -> Principal:
    """Verify a token and return its principal; raises Unauthorized with the reason."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}, leeway=0
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.MissingRequiredClaimError as error:
        raise Unauthorized(f"token is missing the required claim {error.claim!r}") from None
    except jwt.InvalidAlgorithmError:
        raise Unauthorized(f"token algorithm not allowed; expected {ALGORITHM}") from None
    except jwt.InvalidSignatureError:
        raise Unauthorized("token signature is invalid") from None
    except jwt.InvalidTokenError as error:
        raise Unauthorized(f"token is invalid: {error}") from None

    subject = claims["sub"]
    permissions = claims.get("permissions", [])
    if not isinstance(permissions, list) or not all(isinstance(item, str) for item in permissions):
        raise Unauthorized("token claim 'permissions' must be a list of strings")
    return Principal(str(subject), frozenset(permissions))


def mint_token(secret: str, subject: str, now: datetime, lifetime: timedelta, permissions: list[str] | None = None) -> str:
    """Sign a token, as the demo command does for its admin user."""
    claims: dict[str, Any] = {"sub": subject, "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp())}
    if permissions:
        claims["permissions"] = permissions
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


async def require_permission(request: web.Request, permission: str) -> Principal:
    """Raise 401 without a valid token and 403 without ``permission``; return the principal."""
    principal = await authorized_userid(request)
    if principal is None:
        raise Unauthorized("missing bearer token; send 'Authorization: Bearer <token>'")
    if not await permits(request, permission):
        raise Forbidden(f"the token's subject lacks the {permission!r} permission")
    return request[_PRINCIPAL_KEY]


class BearerIdentityPolicy(AbstractIdentityPolicy):
    """Reads ``Authorization: Bearer <JWT>``; the verified principal is kept on the request."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    async def identify(self, request: web.Request) -> Principal | None:  # type: ignore[override]
        if _PRINCIPAL_KEY in request:
            return request[_PRINCIPAL_KEY]
        header = request.headers.get("Authorization")
        if header is None:
            principal = None
        else:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("Authorization header must be 'Bearer <token>'")
            principal = decode_token(token.strip(), self._secret)
        request[_PRINCIPAL_KEY] = principal
        return principal

    async def remember(self, request: web.Request, response: web.StreamResponse, identity: str, **kwargs: Any) -> None:
        raise NotImplementedError("tokens are issued by the platform, not by this service")

    async def forget(self, request: web.Request, response: web.StreamResponse) -> None:
        raise NotImplementedError("tokens are issued by the platform, not by this service")


class RoleAuthorizationPolicy(AbstractAuthorizationPolicy):
    """Grants permissions from the token's claim or the user's role in ``users``."""

    def __init__(self, database: Any, clock=time.monotonic) -> None:
        self._database = database
        self._clock = clock
        self._roles: dict[str, tuple[float, str | None]] = {}

    async def authorized_userid(self, identity: Principal) -> str | None:  # type: ignore[override]
        return identity.subject

    async def permits(self, identity: Principal | None, permission: str, context: Any = None) -> bool:  # type: ignore[override]
        if identity is None:
            return False
        if permission in identity.permissions:
            return True
        role = await self._role_of(identity.subject)
        return permission in ROLE_PERMISSIONS.get(role or "", frozenset())

    async def _role_of(self, user_id: str) -> str | None:
        cached = self._roles.get(user_id)
        if cached is not None and self._clock() - cached[0] < ROLE_CACHE_SECONDS:
            return cached[1]
        try:
            object_id = ObjectId(user_id)
        except (InvalidId, TypeError):
            # Machine clients use non-ObjectId subjects and rely on the permissions claim.
            return None
        user = await self._database["users"].find_one({"_id": object_id}, {"role": 1, "dashboardRole": 1})
        role = None
        if user is not None:
            # Older user documents keep the dashboard role in dashboardRole.
            role = user.get("role") if isinstance(user.get("role"), str) else user.get("dashboardRole")
        self._roles[user_id] = (self._clock(), role)
        return role
