"""Translate the errors google-analytics-data raises into the provider error hierarchy.

The async client raises ``google.api_core.exceptions`` classes, one per gRPC status code.
"""

from __future__ import annotations

import re

from google.api_core import exceptions

from analytics_service.providers.base import (
    ProviderConfigurationError,
    ProviderError,
    ProviderQuotaError,
)

PROVIDER = "ga4"

# Server-side failures that may pass on a second try. Each one also counts against the
# property's quota of 10 server errors per project an hour, so callers retry only a few times.
RETRYABLE = (
    exceptions.ServiceUnavailable,
    exceptions.DeadlineExceeded,
    exceptions.InternalServerError,
    exceptions.Unknown,
)

# Example: "Field customEvent:post_type is not a valid dimension. For a list of valid ..."
_UNKNOWN_CUSTOM_DIMENSION = re.compile(r"Field (customEvent:\S+) is not a valid dimension")


def is_retryable(error: exceptions.GoogleAPICallError) -> bool:
    return isinstance(error, RETRYABLE)


def status_name(error: exceptions.GoogleAPICallError) -> str:
    code = error.grpc_status_code
    return code.name if code is not None else str(error.code)


def provider_error(error: exceptions.GoogleAPICallError, property_id: str, attempts: int = 1) -> ProviderError:
    """Return the provider error for an API error, with what the operator should do next."""
    api_message = f"(API message: {(error.message or '').strip()})"
    if isinstance(error, exceptions.InvalidArgument):
        unknown_dimension = _UNKNOWN_CUSTOM_DIMENSION.search(error.message or "")
        if unknown_dimension:
            dimension = unknown_dimension.group(1).rstrip(".")
            parameter = dimension.removeprefix("customEvent:")
            return ProviderConfigurationError(
                PROVIDER,
                f"property {property_id} has no custom dimension {dimension}. Register an event-scoped custom "
                f"dimension for the event parameter {parameter!r} in GA4 Admin > Custom definitions. {api_message}",
            )
        return ProviderConfigurationError(PROVIDER, f"GA4 rejected the report request as invalid. {api_message}")
    if isinstance(error, exceptions.PermissionDenied):
        return ProviderConfigurationError(
            PROVIDER,
            f"permission denied on property {property_id}. Grant the service account the Viewer role on this "
            f"property in GA4 Admin > Property access management. {api_message}",
        )
    if isinstance(error, exceptions.NotFound):
        return ProviderConfigurationError(
            PROVIDER,
            f"property {property_id} was not found. Check the property id: it is the number shown in GA4 "
            f"Admin > Property details, not a measurement id such as G-XXXXXXX. {api_message}",
        )
    if isinstance(error, exceptions.Unauthenticated):
        return ProviderConfigurationError(
            PROVIDER,
            "GA4 rejected the service-account credentials. Check that the key file is current and that its "
            f"key has not been deleted or disabled. {api_message}",
        )
    if isinstance(error, exceptions.ResourceExhausted):
        return ProviderQuotaError(PROVIDER, f"quota exhausted on property {property_id}. {api_message}")
    if is_retryable(error):
        return ProviderError(
            PROVIDER, f"report request failed after {attempts} attempts with {status_name(error)}. {api_message}"
        )
    return ProviderError(PROVIDER, f"report request failed with {status_name(error)}. {api_message}")
