"""Tests of bearer-token authentication and the analytics.read permission, over HTTP.

Each test starts the app on the embedded engine with three users: an admin, a reader
with role "user", and an older-shape admin that has ``dashboardRole`` and no ``role``.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import jwt
import pytest
from bson import ObjectId

from analytics_service.api.app import create_app
from analytics_service.demo.generator import DEMO_ADMIN_ID, DEMO_READER_ID
from analytics_service.settings import load_settings
from analytics_service.storage.client import Storage
from analytics_service.storage.embedded import EmbeddedMongoClient

SECRET = "x" * 40
PROTECTED_PATH = "/api/v1/analytics/kpis"
LEGACY_ADMIN_ID = "6643b1b7a4a4e6e1a8e7b1b0"
UNKNOWN_USER_ID = "6643b1b7a4a4e6e1a8e7b1ff"
MACHINE_SUBJECT = "svc-dashboard-exporter"
TOKEN_LIFETIME_SECONDS = 600

USERS = [
    {"_id": ObjectId(DEMO_ADMIN_ID), "role": "admin", "email": "admin@example.com"},
    {"_id": ObjectId(DEMO_READER_ID), "role": "user", "email": "reader@example.com"},
    {"_id": ObjectId(LEGACY_ADMIN_ID), "appRole": "standardUser", "dashboardRole": "admin"},
]


@pytest.fixture
async def client(aiohttp_client):
    mongo = EmbeddedMongoClient()
    database = mongo["news"]
    await database["users"].insert_many([dict(user) for user in USERS])
    settings = load_settings(env_file=None, jwt_secret=SECRET)
    app = create_app(settings, storage=Storage(mongo, database, embedded=True), scheduler=False)
    yield await aiohttp_client(app)
    await mongo.close()


def make_claims(**overrides: Any) -> dict[str, Any]:
    """Return valid admin claims with ``overrides`` applied. An override of None removes the claim."""
    claims: dict[str, Any] = {
        "sub": DEMO_ADMIN_ID,
        "iat": int(time.time()),
        "exp": int(time.time()) + TOKEN_LIFETIME_SECONDS,
    }
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def make_token(secret: str = SECRET, algorithm: str = "HS256", **overrides: Any) -> str:
    return jwt.encode(make_claims(**overrides), secret, algorithm=algorithm)


def base64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def make_unsigned_token() -> str:
    """Build an ``alg: none`` token by hand: header, payload and an empty signature."""
    return f"{base64url({'alg': 'none', 'typ': 'JWT'})}.{base64url(make_claims())}."


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def assert_error(response, status: int, code: str) -> str:
    """Check the status and the exact error body, and return the error message."""
    assert response.status == status
    assert response.content_type == "application/json"
    body = await response.json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "message"]
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str)
    assert message
    return message


async def assert_unauthorized(response) -> str:
    message = await assert_error(response, 401, "unauthorized")
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    return message


async def test_missing_header_is_401(client):
    response = await client.get(PROTECTED_PATH)

    await assert_unauthorized(response)


async def test_basic_scheme_is_401(client):
    credentials = base64.b64encode(b"admin:password").decode()

    response = await client.get(PROTECTED_PATH, headers={"Authorization": f"Basic {credentials}"})

    await assert_unauthorized(response)


async def test_empty_bearer_token_is_401(client):
    response = await client.get(PROTECTED_PATH, headers={"Authorization": "Bearer "})

    await assert_unauthorized(response)


async def test_garbage_token_is_401(client):
    response = await client.get(PROTECTED_PATH, headers=bearer("not-a-jwt"))

    await assert_unauthorized(response)


async def test_expired_token_is_401(client):
    token = make_token(iat=int(time.time()) - 120, exp=int(time.time()) - 60)

    response = await client.get(PROTECTED_PATH, headers=bearer(token))

    message = await assert_unauthorized(response)
    assert "expired" in message


async def test_token_without_exp_is_401(client):
    response = await client.get(PROTECTED_PATH, headers=bearer(make_token(exp=None)))

    message = await assert_unauthorized(response)
    assert "exp" in message


async def test_token_without_sub_is_401(client):
    response = await client.get(PROTECTED_PATH, headers=bearer(make_token(sub=None)))

    message = await assert_unauthorized(response)
    assert "sub" in message


async def test_alg_none_token_is_401(client):
    response = await client.get(PROTECTED_PATH, headers=bearer(make_unsigned_token()))

    await assert_unauthorized(response)


async def test_wrong_secret_is_401(client):
    token = make_token(secret="y" * 40)

    response = await client.get(PROTECTED_PATH, headers=bearer(token))

    await assert_unauthorized(response)


# PyJWT 2.15 warns that a 40-byte key is shorter than the HS384 and HS512 digests. The
# test keeps the short key because it is the service's own secret.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_other_hmac_algorithm_is_401(client, algorithm):
    token = make_token(algorithm=algorithm)

    response = await client.get(PROTECTED_PATH, headers=bearer(token))

    message = await assert_unauthorized(response)
    assert "algorithm" in message


async def test_other_secret_after_cached_token_is_401(client):
    valid = make_token()
    forged = make_token(secret="y" * 40)

    first = await client.get(PROTECTED_PATH, headers=bearer(valid))
    rejected = await client.get(PROTECTED_PATH, headers=bearer(forged))
    again = await client.get(PROTECTED_PATH, headers=bearer(valid))

    assert first.status == 200
    message = await assert_unauthorized(rejected)
    assert "signature" in message
    assert again.status == 200


async def test_tampered_cached_token_is_401(client):
    token = make_token()
    header, payload, signature = token.split(".")
    reader_payload = make_token(sub=DEMO_READER_ID).split(".")[1]
    middle = len(signature) // 2
    changed_signature = signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1:]

    cached = await client.get(PROTECTED_PATH, headers=bearer(token))
    assert cached.status == 200

    for tampered in (f"{header}.{payload}.{changed_signature}", f"{header}.{reader_payload}.{signature}"):
        response = await client.get(PROTECTED_PATH, headers=bearer(tampered))
        await assert_unauthorized(response)


async def test_admin_token_is_200(client):
    response = await client.get(PROTECTED_PATH, headers=bearer(make_token()))

    assert response.status == 200
    body = await response.json()
    assert body["kind"] == "kpi"


async def test_user_role_is_403(client):
    response = await client.get(PROTECTED_PATH, headers=bearer(make_token(sub=DEMO_READER_ID)))

    message = await assert_error(response, 403, "forbidden")
    assert "analytics.read" in message


async def test_unknown_user_is_403(client):
    response = await client.get(PROTECTED_PATH, headers=bearer(make_token(sub=UNKNOWN_USER_ID)))

    await assert_error(response, 403, "forbidden")


async def test_non_objectid_subject_is_403(client):
    response = await client.get(PROTECTED_PATH, headers=bearer(make_token(sub=MACHINE_SUBJECT)))

    await assert_error(response, 403, "forbidden")


async def test_machine_permission_is_200(client):
    token = make_token(sub=MACHINE_SUBJECT, permissions=["analytics.read"])

    response = await client.get(PROTECTED_PATH, headers=bearer(token))

    assert response.status == 200


@pytest.mark.parametrize(
    "permissions", ["analytics.read", {"analytics.read": True}, 1], ids=["string", "object", "number"]
)
async def test_permissions_not_list_is_401(client, permissions):
    token = make_token(sub=MACHINE_SUBJECT, permissions=permissions)

    response = await client.get(PROTECTED_PATH, headers=bearer(token))

    message = await assert_unauthorized(response)
    assert "permissions" in message


async def test_legacy_dashboard_role_is_200(client):
    response = await client.get(PROTECTED_PATH, headers=bearer(make_token(sub=LEGACY_ADMIN_ID)))

    assert response.status == 200


async def test_token_and_secret_never_leak(client, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = [
        make_token(),
        make_token(exp=int(time.time()) - 60),
        make_token(secret="y" * 40),
        make_token(sub=DEMO_READER_ID),
        make_token(sub=MACHINE_SUBJECT, permissions="analytics.read"),
        make_unsigned_token(),
        "not-a-jwt",
    ]

    for token in tokens:
        response = await client.get(PROTECTED_PATH, headers=bearer(token))
        text = await response.text()
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())

        assert token not in text
        assert SECRET not in text
        assert token not in headers
        assert SECRET not in headers

    assert caplog.records
    for token in tokens:
        assert token not in caplog.text
    assert SECRET not in caplog.text
