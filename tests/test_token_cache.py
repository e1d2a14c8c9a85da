"""Tests of VerifiedTokenCache: expiry, maximum age, size bound and rejected tokens.

The cache takes its clock as an argument, so these tests move time by setting a fake
clock. PyJWT still compares ``exp`` with the real wall clock on each full verification,
so every token here expires at least ten minutes after the real current time.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from analytics_service.api import auth
from analytics_service.api.auth import Principal, VerifiedTokenCache
from analytics_service.api.errors import Unauthorized
from analytics_service.demo.generator import DEMO_ADMIN_ID, DEMO_READER_ID

SECRET = "x" * 40
OTHER_SECRET = "y" * 40
TOKEN_LIFETIME_SECONDS = 600


class FakeClock:
    """A clock that returns ``now`` (Unix seconds) until a test sets it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
def decode_calls(monkeypatch) -> list[str]:
    """Record every token that reaches ``jwt.decode``, so a test can tell a cache hit from a full check."""
    calls: list[str] = []
    original = jwt.decode

    def counting_decode(token, *args: Any, **kwargs: Any):
        calls.append(token)
        return original(token, *args, **kwargs)

    monkeypatch.setattr(auth.jwt, "decode", counting_decode)
    return calls


def make_token(secret: str = SECRET, subject: str = DEMO_ADMIN_ID, lifetime_s: int = TOKEN_LIFETIME_SECONDS,
               **claims: Any) -> tuple[str, int]:
    """Sign a token that expires ``lifetime_s`` after the real current time, and return it with its exp."""
    now = int(time.time())
    expires_at = now + lifetime_s
    token = jwt.encode({"sub": subject, "iat": now, "exp": expires_at, **claims}, secret, algorithm="HS256")
    return token, expires_at


def replace_character(text: str, index: int) -> str:
    """Return ``text`` with the character at ``index`` replaced by another base64url character."""
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1:]


def test_valid_token_is_cached(clock, decode_calls):
    cache = VerifiedTokenCache(SECRET, clock=clock)
    token, _ = make_token()

    first = cache.verify(token)
    second = cache.verify(token)

    assert first == Principal(DEMO_ADMIN_ID, frozenset())
    assert second == first
    assert token in cache
    assert len(decode_calls) == 1


def test_cached_token_rejected_at_exp(clock, decode_calls):
    cache = VerifiedTokenCache(SECRET, max_age_s=3600, clock=clock)
    token, expires_at = make_token()
    cache.verify(token)

    clock.now = expires_at - 1
    assert cache.verify(token).subject == DEMO_ADMIN_ID
    assert len(decode_calls) == 1

    clock.now = expires_at
    with pytest.raises(Unauthorized, match="expired"):
        cache.verify(token)
    assert token not in cache

    clock.now = expires_at + 3600
    with pytest.raises(Unauthorized, match="expired"):
        cache.verify(token)
    assert token not in cache


def test_token_expired_by_clock_not_cached(clock, decode_calls):
    cache = VerifiedTokenCache(SECRET, clock=clock)
    token, expires_at = make_token()
    clock.now = expires_at + 1

    with pytest.raises(Unauthorized, match="expired"):
        cache.verify(token)

    assert token not in cache
    assert len(cache) == 0


def test_entry_reverified_after_max_age(clock, decode_calls):
    cache = VerifiedTokenCache(SECRET, max_age_s=60, clock=clock)
    token, _ = make_token()
    verified_at = clock.now
    cache.verify(token)

    clock.now = verified_at + 59
    cache.verify(token)
    assert len(decode_calls) == 1

    clock.now = verified_at + 60
    cache.verify(token)
    assert len(decode_calls) == 2


def test_clock_moved_back_forces_reverification(clock, decode_calls):
    cache = VerifiedTokenCache(SECRET, clock=clock)
    token, _ = make_token()
    cache.verify(token)

    clock.now -= 10
    cache.verify(token)

    assert len(decode_calls) == 2


def test_other_secret_rejected_after_valid_cached(clock):
    cache = VerifiedTokenCache(SECRET, clock=clock)
    valid, _ = make_token()
    forged, _ = make_token(secret=OTHER_SECRET)
    cache.verify(valid)

    for _ in range(2):
        with pytest.raises(Unauthorized, match="signature"):
            cache.verify(forged)
        assert forged not in cache

    assert cache.verify(valid).subject == DEMO_ADMIN_ID


def test_tampered_token_rejected(clock):
    cache = VerifiedTokenCache(SECRET, clock=clock)
    token, _ = make_token(permissions=["analytics.read"])
    cache.verify(token)
    header, payload, signature = token.split(".")
    _, other_payload, _ = make_token(subject=DEMO_READER_ID, permissions=["analytics.read"])[0].split(".")
    tampered = {
        "signature": f"{header}.{payload}.{replace_character(signature, len(signature) // 2)}",
        "payload": f"{header}.{replace_character(payload, len(payload) // 2)}.{signature}",
        "swapped payload": f"{header}.{other_payload}.{signature}",
        "appended": token + "A",
        "truncated": token[:-1],
        "no signature": f"{header}.{payload}.",
    }

    for case, text in tampered.items():
        with pytest.raises(Unauthorized):
            cache.verify(text)
        assert text not in cache, case

    assert len(cache) == 1


def test_cache_is_bounded(clock):
    cache = VerifiedTokenCache(SECRET, max_entries=2, clock=clock)
    first, _ = make_token(subject="client-1")
    second, _ = make_token(subject="client-2")
    third, _ = make_token(subject="client-3")

    cache.verify(first)
    cache.verify(second)
    cache.verify(first)
    cache.verify(third)

    assert len(cache) == 2
    assert first in cache
    assert second not in cache
    assert third in cache


def test_failed_verifications_not_cached(clock):
    cache = VerifiedTokenCache(SECRET, clock=clock)
    expired, _ = make_token(lifetime_s=-60)
    without_exp = jwt.encode({"sub": DEMO_ADMIN_ID}, SECRET, algorithm="HS256")

    for token in (expired, without_exp, "not-a-jwt"):
        with pytest.raises(Unauthorized):
            cache.verify(token)

    assert len(cache) == 0


def test_permissions_claim_cached_with_principal(clock, decode_calls):
    cache = VerifiedTokenCache(SECRET, clock=clock)
    token, _ = make_token(subject="svc-exporter", permissions=["analytics.read"])

    cache.verify(token)
    principal = cache.verify(token)

    assert principal.permissions == frozenset({"analytics.read"})
    assert len(decode_calls) == 1


def test_max_entries_below_one_rejected():
    with pytest.raises(ValueError, match="max_entries"):
        VerifiedTokenCache(SECRET, max_entries=0)
