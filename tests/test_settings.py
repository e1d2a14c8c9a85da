"""Configuration: defaults, one-line errors, and documentation of every setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analytics_service.errors import ConfigurationError
from analytics_service.settings import Settings, env_name, load_settings

ROOT = Path(__file__).resolve().parent.parent
ALL_VARIABLES = sorted(env_name(name) for name in Settings.model_fields)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for variable in ALL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def test_defaults():
    settings = load_settings(env_file=None)
    assert settings.mongodb_uri is None
    assert settings.database == "news"
    assert settings.host == "0.0.0.0"
    assert settings.port == 8080
    assert settings.timezone == "UTC"
    assert settings.sync_cron == "*/15 * * * *"
    assert settings.sync_on_startup is True
    assert settings.create_indexes is True
    assert settings.uses_embedded_engine


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ANALYTICS_TIMEZONE", "Mars/Olympus", "IANA time zone"),
        ("ANALYTICS_TIMEZONE", "../../etc/passwd", "IANA time zone"),
        ("ANALYTICS_PORT", "eighty", "valid integer"),
        ("ANALYTICS_PORT", "70000", "less than or equal to 65535"),
        ("ANALYTICS_PORT", "0", "greater than or equal to 1"),
        ("ANALYTICS_SYNC_CRON", "every 15 minutes", "cron expression"),
        ("ANALYTICS_SYNC_CRON", "*/15 * * *", "5 fields"),
        ("ANALYTICS_SYNC_CRON", "61 * * * *", "cron expression"),
        ("ANALYTICS_REBUILD_CRON", "daily", "cron expression"),
        ("ANALYTICS_REBUILD_CRON", "61 3 * * *", "valid cron expression"),
        ("ANALYTICS_ROLLUP_UPDATE_HOURS", "0", "whole hours from 1 to 8784"),
        ("ANALYTICS_ROLLUP_UPDATE_HOURS", "9000", "whole hours from 1 to 8784"),
        ("ANALYTICS_ROLLUP_UPDATE_HOURS", "1.5", "valid integer"),
        ("ANALYTICS_SYNC_ON_STARTUP", "maybe", "valid boolean"),
        ("ANALYTICS_DATABASE", "news.prod", "MongoDB database name"),
        ("ANALYTICS_LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING or ERROR"),
    ],
)
def test_invalid_value_names_variable_and_form(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as raised:
        load_settings(env_file=None)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"invalid configuration: {variable}=")
    assert repr(value) in message
    assert expected in message


def test_short_jwt_secret_is_rejected_without_echoing_it(monkeypatch):
    monkeypatch.setenv("ANALYTICS_JWT_SECRET", "short-secret")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(env_file=None)
    assert "ANALYTICS_JWT_SECRET" in str(raised.value)
    assert "short-secret" not in str(raised.value)


def test_two_invalid_values_give_one_line_each(monkeypatch):
    monkeypatch.setenv("ANALYTICS_TIMEZONE", "Nowhere/City")
    monkeypatch.setenv("ANALYTICS_PORT", "-1")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(env_file=None)
    lines = str(raised.value).splitlines()
    assert len(lines) == 2


def test_env_file_is_read(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("ANALYTICS_TIMEZONE=Europe/Berlin\nANALYTICS_PORT=9090\n")
    settings = load_settings(env_file=env_file)
    assert settings.timezone == "Europe/Berlin"
    assert settings.port == 9090


def test_environment_overrides_env_file(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("ANALYTICS_PORT=9090\n")
    monkeypatch.setenv("ANALYTICS_PORT", "9191")
    assert load_settings(env_file=env_file).port == 9191


def test_summary_hides_secrets():
    secret = "s" * 40
    settings = load_settings(env_file=None, jwt_secret=secret, mongodb_uri="mongodb://user:pw@127.0.0.1/")
    summary = settings.redacted_summary()
    assert secret not in summary
    assert "pw" not in summary
    assert "jwt_secret=(set)" in summary


def test_every_setting_is_in_env_example():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?(ANALYTICS_[A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert documented == set(ALL_VARIABLES)


def test_every_setting_is_in_readme_table():
    text = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `(ANALYTICS_[A-Z0-9_]+)` \|", text, flags=re.MULTILINE))
    assert documented == set(ALL_VARIABLES)


def test_every_card_is_in_readme():
    from analytics_service.catalogue import ALL_CARDS

    text = (ROOT / "README.md").read_text()
    missing = [card.id for card in ALL_CARDS if f"| `{card.id}` |" not in text]
    assert missing == []


def test_uri_without_mongodb_scheme_is_rejected_without_echoing_it(monkeypatch):
    monkeypatch.setenv("ANALYTICS_MONGODB_URI", "user:pw@db.internal")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(env_file=None)
    assert "ANALYTICS_MONGODB_URI=(hidden)" in str(raised.value)
    assert "mongodb://" in str(raised.value)
    assert "pw@" not in str(raised.value)
