"""Service configuration, read once from the environment and an optional ``.env`` file.

No other module reads ``os.environ``: everything the service needs is a field here, with a
one-line description that the README's configuration table and ``.env.example`` repeat.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cronsim import CronSim, CronSimError
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from analytics_service.errors import ConfigurationError

ENV_PREFIX = "ANALYTICS_"

# Minimum HS256 key length: RFC 7518 section 3.2 requires a key of at least 256 bits.
MIN_JWT_SECRET_LENGTH = 32


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
    sync_on_startup: bool = Field(default=True, description="Run one refresh as soon as serve starts.")
    create_indexes: bool = Field(
        default=True,
        description="Create the service's indexes at startup; false for operators who manage indexes themselves.",
    )
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")

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

    @field_validator("sync_cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("expected a cron expression with 5 fields, such as */15 * * * *")
        try:
            CronSim(value, datetime(2026, 1, 1, tzinfo=timezone.utc))
        except CronSimError as err:
            raise ValueError(f"expected a cron expression with 5 fields ({err})") from err
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(f"expected at least {MIN_JWT_SECRET_LENGTH} characters")
        return value

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
        field = str(problem["loc"][0]) if problem["loc"] else "?"
        value = problem.get("input")
        if field in {"jwt_secret", "mongodb_uri"}:
            shown = "(hidden)"
        else:
            shown = repr(value)
        reason = problem["msg"].removeprefix("Value error, ")
        lines.append(f"invalid configuration: {env_name(field)}={shown}: {reason}")
    return "\n".join(lines)
