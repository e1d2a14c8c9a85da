"""Service configuration, read once from the environment and an optional ``.env`` file.

No other module reads ``os.environ``: everything the service needs is a field here, with a
one-line description that the README's configuration table and ``.env.example`` repeat.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from cronsim import CronSim, CronSimError
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from analytics_service.errors import ConfigurationError

ENV_PREFIX = "ANALYTICS_"

# Minimum HS256 key length: RFC 7518 section 3.2 requires a key of at least 256 bits.
MIN_JWT_SECRET_LENGTH = 32

SECRET_FIELDS = {"jwt_secret", "mongodb_uri", "ga4_credentials_json", "mixpanel_secret"}


# Maximum update window: past a year, a full rebuild costs about the same.
MAX_UPDATE_HOURS = 366 * 24

class Settings(BaseSettings):
    """Every setting of the service; each field maps to ``ANALYTICS_<FIELD NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    mongodb_uri: SecretStr | None = Field(
        default=None,
        description="MongoDB connection string; unset runs the embedded in-memory engine (not durable).",
    )
    database: str = Field(default="news", description="Database that holds the platform's collections and the cards.")
    host: str = Field(default="0.0.0.0", description="Address the HTTP server listens on.")
    port: int = Field(default=8080, ge=1, le=65535, description="TCP port of the HTTP server.")
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 secret that signs API bearer tokens, at least 32 characters; required by serve.",
    )
    timezone: str = Field(default="UTC", description="IANA time zone of the dashboard's calendar days.")
    sync_cron: str = Field(default="*/15 * * * *", description="Cron expression (5 fields) of the scheduled refresh.")
    rebuild_cron: str = Field(
        default="40 3 * * *",
        description="Cron expression (5 fields) of the full rollup rebuild, which recounts every source document.",
    )
    rollup_update_hours: int = Field(
        default=72,
        description="Hours of rollups recounted on every refresh; changes to older documents appear after the "
        "next full rebuild.",
    )
    sync_on_startup: bool = Field(default=True, description="Run one refresh as soon as serve starts.")
    create_indexes: bool = Field(
        default=True,
        description="Create the service's indexes at startup; false for operators who manage indexes themselves.",
    )
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log line format: text, or json with one object per line."
    )

    lease_ttl_seconds: float = Field(
        default=60.0, ge=5, le=3600,
        description="Lifetime of the sync lease between heartbeats, in seconds; a replica that stops renewing "
        "loses the lease after it.",
    )
    stale_after_seconds: float | None = Field(
        default=None, gt=0,
        description="Age in seconds after which a card is reported stale; unset means twice the schedule interval.",
    )
    shutdown_grace_seconds: float = Field(
        default=10.0, gt=0, le=300,
        description="Time allowed for a clean exit after SIGTERM or SIGINT, in seconds.",
    )

    provider: Literal["auto", "ga4", "mixpanel", "events", "none"] = Field(
        default="auto",
        description="Analytics provider of the provider-backed cards: auto (from remote_configs), ga4, mixpanel, "
        "events or none.",
    )
    provider_timeout_seconds: float = Field(
        default=60.0, gt=0, le=600, description="Time limit of one provider request, retries included, in seconds."
    )
    events_collection: str = Field(
        default="analytics_events", description="Collection of the platform's own events, read by the events provider."
    )
    ga4_property_id: str | None = Field(default=None, description="GA4 property id (digits only).")
    ga4_credentials_file: Path | None = Field(default=None, description="Path of a GA4 service-account JSON key file.")
    ga4_credentials_json: SecretStr | None = Field(
        default=None, description="GA4 service-account JSON key as a string, instead of a file."
    )
    ga4_endpoint: str | None = Field(
        default=None,
        description="host:port of the GA4 Data API; unset uses Google's. A loopback address is reached without TLS.",
    )
    mixpanel_project_id: str | None = Field(default=None, description="Mixpanel project id (digits only).")
    mixpanel_username: str | None = Field(default=None, description="Mixpanel service-account username.")
    mixpanel_secret: SecretStr | None = Field(default=None, description="Mixpanel service-account secret.")
    mixpanel_region: Literal["us", "eu", "in"] = Field(
        default="us", description="Mixpanel data residency region: us, eu or in."
    )
    mixpanel_hourly_limit: int = Field(
        default=60, ge=1, le=10000, description="Maximum Mixpanel query requests per hour from this process."
    )
    mixpanel_base_url: str | None = Field(
        default=None, description="Base URL of the Mixpanel query API; unset derives it from the region."
    )

    @field_validator("mongodb_uri")
    @classmethod
    def _check_uri(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("expected a MongoDB connection string starting with mongodb:// or mongodb+srv://")
        return value

    @field_validator("database")
    @classmethod
    def _check_database(cls, value: str) -> str:
        forbidden = set('/\\. "$') | {"\x00"}
        if not value or len(value) > 63 or forbidden & set(value):
            raise ValueError("expected a MongoDB database name: 1 to 63 characters without / \\ . space \" $")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError("expected an IANA time zone name such as UTC or Europe/Berlin") from err
        return value

    @field_validator("sync_cron", "rebuild_cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("expected a cron expression with 5 fields, such as */15 * * * *")
        try:
            CronSim(value, datetime(2026, 1, 1, tzinfo=timezone.utc))
        except CronSimError as err:
            raise ValueError(f"expected a valid cron expression such as */15 * * * * ({err})") from err
        return value

    @field_validator("rollup_update_hours")
    @classmethod
    def _check_update_hours(cls, value: int) -> int:
        if not 1 <= value <= MAX_UPDATE_HOURS:
            raise ValueError(f"expected whole hours from 1 to {MAX_UPDATE_HOURS} (366 days)")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(f"expected at least {MIN_JWT_SECRET_LENGTH} characters")
        return value

    @field_validator("ga4_property_id", "mixpanel_project_id")
    @classmethod
    def _check_numeric_id(cls, value: str | None) -> str | None:
        if value is not None and not (value.isascii() and value.isdigit()):
            raise ValueError("expected a numeric id such as 123456789")
        return value

    @field_validator("events_collection")
    @classmethod
    def _check_collection(cls, value: str) -> str:
        if not value or value.startswith(("system.", "$")) or "$" in value or "\x00" in value:
            raise ValueError("expected a MongoDB collection name")
        return value

    @model_validator(mode="after")
    def _check_selected_provider(self) -> Settings:
        missing = self.missing_provider_settings(self.provider)
        if missing:
            raise ValueError(
                f"ANALYTICS_PROVIDER={self.provider} needs {', '.join(missing)}; set them or choose another provider"
            )
        return self

    def missing_provider_settings(self, provider: str) -> list[str]:
        """Return the unset variables that ``provider`` needs, empty when it is configured."""
        if provider == "ga4":
            missing = [] if self.ga4_property_id else [env_name("ga4_property_id")]
            if self.ga4_credentials_file is None and self.ga4_credentials_json is None:
                missing.append(f"{env_name('ga4_credentials_file')} or {env_name('ga4_credentials_json')}")
            return missing
        if provider == "mixpanel":
            needed = ("mixpanel_project_id", "mixpanel_username", "mixpanel_secret")
            return [env_name(name) for name in needed if getattr(self, name) is None]
        return []

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return level

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def schedule_interval_seconds(self) -> float:
        """Return the longest gap between two consecutive runs of the cron schedule, over a week."""
        return _longest_cron_gap(self.sync_cron)

    @property
    def stale_threshold_seconds(self) -> float:
        if self.stale_after_seconds is not None:
            return self.stale_after_seconds
        return 2 * self.schedule_interval_seconds

    @property
    def uses_embedded_engine(self) -> bool:
        return self.mongodb_uri is None

    def redacted_summary(self) -> str:
        """Describe the configuration in one line with secrets left out."""
        parts = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "(set)"
            elif value is None:
                value = "(unset)"
            parts.append(f"{name}={value}")
        return " ".join(parts)


@functools.lru_cache(maxsize=16)
def _longest_cron_gap(cron: str) -> float:
    # Cached: the API reads the stale threshold on every request, and walking a week of
    # cron times takes milliseconds.
    start = datetime(2026, 1, 5, tzinfo=timezone.utc)
    times = CronSim(cron, start)
    previous = next(times)
    longest = 0.0
    for _ in range(2000):
        current = next(times)
        longest = max(longest, (current - previous).total_seconds())
        previous = current
        if (current - start).days > 7:
            break
    return longest


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Build the settings, raising ConfigurationError with one line per invalid variable."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as err:
        raise ConfigurationError(_describe_validation_error(err)) from None


def _describe_validation_error(err: ValidationError) -> str:
    lines = []
    for problem in err.errors():
        if not problem["loc"]:
            # A check across several settings names the variables in its own message.
            lines.append("invalid configuration: " + problem["msg"].removeprefix("Value error, "))
            continue
        field = str(problem["loc"][0])
        value = problem.get("input")
        if field in SECRET_FIELDS:
            shown = "(hidden)"
        else:
            shown = repr(value)
        reason = problem["msg"].removeprefix("Value error, ")
        lines.append(f"invalid configuration: {env_name(field)}={shown}: {reason}")
    return "\n".join(lines)
