"""Bearer-token authentication and the ``analytics.read`` permission (aiohttp-security).

Tokens are JWTs signed with HS256 and ``ANALYTICS_JWT_SECRET``; ``exp`` and ``sub`` are
required and the algorithm is pinned, so ``alg: none`` and other algorithms fail. The
subject is a user id: the user's role in the ``users`` document grants permissions
(``admin`` has ``analytics.read``). Machine clients carry a ``permissions`` claim.

Verified tokens are cached (``VerifiedTokenCache``), so a dashboard that repeats the same
token skips the signature check and the JSON decoding until the token expires or at most
``TOKEN_CACHE_MAX_AGE_SECONDS`` have passed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from aiohttp import web
from aiohttp_security.abc import AbstractAuthorizationPolicy, AbstractIdentityPolicy
from aiohttp_security.api import AUTZ_KEY, IDENTITY_KEY
from bson import ObjectId
from bson.errors import InvalidId

from analytics_service.api.errors import Forbidden, Unauthorized

ALGORITHM = "HS256"
READ_PERMISSION = "analytics.read"
SYNC_PERMISSION = "analytics.sync"
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {"admin": frozenset({READ_PERMISSION, SYNC_PERMISSION})}
# Role lookups are cached briefly so a dashboard opening a dozen cards costs one query.
ROLE_CACHE_SECONDS = 30.0
# A verified token is reused for at most this many seconds, even when its exp is later.
# Roles are not part of the entry, because RoleAuthorizationPolicy caches them per user.
TOKEN_CACHE_MAX_AGE_SECONDS = 60.0
# Maximum number of cached tokens. Beyond it the least recently used entry is dropped.
TOKEN_CACHE_MAX_ENTRIES = 4096

_PRINCIPAL_KEY = web.RequestKey("analytics_principal", object)


@dataclass(frozen=True)
class Principal:
    """The verified claims of a request's token."""

    subject: str
    permissions: frozenset[str]


def decode_token(token: str, secret: str) -> Principal:
    """Verify a token and return its principal; raises Unauthorized with the reason."""
    return _verify_token(token, secret)[0]


def _verify_token(token: str, secret: str) -> tuple[Principal, int]:
    """Verify a token and return its principal and its ``exp`` in Unix seconds. Raises Unauthorized."""
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
    try:
        expires_at = int(claims["exp"])
    except (TypeError, ValueError, OverflowError):
        raise Unauthorized("token claim 'exp' must be a number of seconds") from None
    return Principal(str(subject), frozenset(permissions)), expires_at


class VerifiedTokenCache:
    """An LRU cache from the exact token string to its verified principal.

    Only tokens that passed full verification are stored, and a failed verification
    stores nothing. An entry is used from its verification until the token's ``exp`` or
    ``max_age_s`` later, whichever comes first. After that, the token is verified again
    in full. ``clock`` returns Unix seconds, as ``time.time`` does.
    """

    def __init__(
        self,
        secret: str,
        *,
        max_entries: int = TOKEN_CACHE_MAX_ENTRIES,
        max_age_s: float = TOKEN_CACHE_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self._secret = secret
        self._max_entries = max_entries
        self._max_age_s = max_age_s
        self._clock = clock
        # token -> (principal, verified at, usable until), both in Unix seconds.
        self._entries: OrderedDict[str, tuple[Principal, float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, token: object) -> bool:
        return token in self._entries

    def verify(self, token: str) -> Principal:
        """Return the token's principal, from the cache or by verifying it. Raises Unauthorized."""
        now = self._clock()
        entry = self._entries.get(token)
        if entry is not None:
            principal, verified_at, usable_until = entry
            # A clock that moved back before the verification also forces a new check,
            # because PyJWT compares iat and nbf with the current time.
            if verified_at <= now < usable_until:
                self._entries.move_to_end(token)
                return principal
            del self._entries[token]

        principal, expires_at = _verify_token(token, self._secret)
        # PyJWT compared exp with its own reading of the wall clock. This check applies
        # the cache's clock too, so the cache never accepts a token expired by that clock.
        if expires_at <= now:
            raise Unauthorized("token expired")
        self._entries[token] = (principal, now, min(float(expires_at), now + self._max_age_s))
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return principal


def mint_token(secret: str, subject: str, now: datetime, lifetime: timedelta, permissions: list[str] | None = None) -> str:
    """Sign a token, as the demo command does for its admin user."""
    claims: dict[str, Any] = {"sub": subject, "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp())}
    if permissions:
        claims["permissions"] = permissions
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


async def require_permission(request: web.Request, permission: str) -> Principal:
    """Raise 401 without a valid token and 403 without ``permission``; return the principal.

    Calls the policies that ``aiohttp_security.setup`` registered in the same order as
    ``aiohttp_security.authorized_userid`` and ``permits`` do, but looks them up once.
    """
    config = request.config_dict
    identity_policy = config.get(IDENTITY_KEY)
    authorization_policy = config.get(AUTZ_KEY)
    if identity_policy is None or authorization_policy is None:
        raise RuntimeError("aiohttp_security.setup() was not called for this application")

    principal = await identity_policy.identify(request)
    if principal is None or await authorization_policy.authorized_userid(principal) is None:
        raise Unauthorized("missing bearer token; send 'Authorization: Bearer <token>'")
    if not await authorization_policy.permits(principal, permission):
        raise Forbidden(f"the token's subject lacks the {permission!r} permission")
    return principal


class BearerIdentityPolicy(AbstractIdentityPolicy):
    """Reads ``Authorization: Bearer <JWT>``; the verified principal is kept on the request."""

    def __init__(self, secret: str) -> None:
        self._tokens = VerifiedTokenCache(secret)

    async def identify(self, request: web.Request) -> Principal | None:  # type: ignore[override]
        if _PRINCIPAL_KEY in request:
            return request[_PRINCIPAL_KEY]
        header = request.headers.get("Authorization")
        if header is None:
            principal = None
        else:
            scheme, _, token = header.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise Unauthorized("Authorization header must be 'Bearer <token>'")
            principal = self._tokens.verify(token)
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
