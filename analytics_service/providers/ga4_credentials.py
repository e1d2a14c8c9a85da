"""Build the GA4 Data API client from service-account credentials.

Errors about the credentials never quote the private key.
"""

from __future__ import annotations

import ipaddress
import json
import os
from typing import Any

import grpc
from google.analytics.data_v1beta import BetaAnalyticsDataAsyncClient
from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
    BetaAnalyticsDataGrpcAsyncIOTransport,
)
from google.api_core.client_options import ClientOptions
from google.oauth2 import service_account

from analytics_service.providers.base import ProviderConfigurationError

PROVIDER = "ga4"
SCOPES = ("https://www.googleapis.com/auth/analytics.readonly",)


def build_data_client(source: str | os.PathLike[str], endpoint: str | None) -> BetaAnalyticsDataAsyncClient:
    """Build an async Data API client for ``endpoint`` (``host:port``, or None for the library's own).

    A loopback endpoint is reached over plaintext gRPC without credentials, for local
    fakes, and any other endpoint over TLS. The credentials are loaded and checked either way.
    """
    credentials = load_service_account(source)
    if endpoint is not None and is_loopback(endpoint):
        channel = grpc.aio.insecure_channel(endpoint)
        return BetaAnalyticsDataAsyncClient(
            transport=BetaAnalyticsDataGrpcAsyncIOTransport(host=endpoint, channel=channel)
        )
    options = ClientOptions(api_endpoint=endpoint) if endpoint is not None else None
    return BetaAnalyticsDataAsyncClient(credentials=credentials, client_options=options)


def is_loopback(endpoint: str) -> bool:
    """Return whether a ``host:port`` endpoint names this machine (127.0.0.0/8, ::1, localhost)."""
    has_port = endpoint.count(":") == 1 or endpoint.startswith("[")
    host = (endpoint.rsplit(":", 1)[0] if has_port else endpoint).strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_service_account(source: str | os.PathLike[str]) -> service_account.Credentials:
    """Build read-only Analytics credentials from a key file path or the key's JSON text.

    A string that starts with ``{`` is read as JSON text, anything else as a path. Raises
    ProviderConfigurationError naming the problem. The message never contains the key.
    """
    if isinstance(source, str) and source.lstrip().startswith("{"):
        info = _parse_json(source, "the service-account JSON")
    else:
        path = os.fspath(source)
        try:
            with open(path, encoding="utf-8") as key_file:
                text = key_file.read()
        except OSError as error:
            raise ProviderConfigurationError(
                PROVIDER, f"cannot read the service-account key file {path}: {error.strerror or error}"
            ) from None
        except UnicodeDecodeError:
            raise ProviderConfigurationError(
                PROVIDER, f"the service-account key file {path} is not UTF-8 text"
            ) from None
        info = _parse_json(text, f"the service-account key file {path}")
    return _credentials(info)


def _parse_json(text: str, description: str) -> dict[str, Any]:
    try:
        info = json.loads(text)
    except json.JSONDecodeError as error:
        # Only the message and position are quoted, because error.doc contains the whole key file.
        raise ProviderConfigurationError(
            PROVIDER, f"{description} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    if not isinstance(info, dict):
        raise ProviderConfigurationError(PROVIDER, f"{description} is not a JSON object")
    return info


def _credentials(info: dict[str, Any]) -> service_account.Credentials:
    key_type = info.get("type")
    if key_type != "service_account":
        raise ProviderConfigurationError(
            PROVIDER,
            f"the credentials JSON has type {key_type!r}, expected 'service_account'. "
            "Create a key for a service account in Google Cloud IAM and download it as JSON.",
        )
    try:
        return service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
    except ValueError as error:
        # google-auth raises ValueError (MalformedError is one) for missing fields and for keys
        # it cannot parse. Its messages name fields, but check anyway before quoting one.
        detail = str(error)
        if _quotes_key(detail, str(info.get("private_key") or "")):
            detail = "the private key could not be parsed"
        raise ProviderConfigurationError(
            PROVIDER,
            f"invalid service-account credentials for {info.get('client_email', 'an unnamed account')}: {detail}",
        ) from None


def _quotes_key(text: str, private_key: str) -> bool:
    """Return whether ``text`` contains a PEM marker or a line of the key's body."""
    if "PRIVATE KEY" in text:
        return True
    body = [line.strip() for line in private_key.splitlines() if "PRIVATE KEY" not in line]
    # Short lines are too likely to match ordinary words.
    return any(len(line) >= 8 and line in text for line in body)
