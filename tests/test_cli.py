"""The command line as a user runs it: exit codes, one-line errors and the demo."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from analytics_service.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for variable in list(os.environ):
        if variable.startswith("ANALYTICS_"):
            monkeypatch.delenv(variable)
    # No .env of the developer's leaks in: the command runs in an empty directory.
    monkeypatch.chdir(tmp_path)


def test_invalid_timezone_exits_2_with_one_line(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("ANALYTICS_TIMEZONE", "Not/AZone")
    assert main(["sync"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert "ANALYTICS_TIMEZONE='Not/AZone'" in error
    assert "IANA time zone" in error


def test_sync_on_empty_embedded_engine_exits_0(clean_env, capsys):
    assert main(["sync"]) == 0
    assert "succeeded" in capsys.readouterr().out


def test_sync_rebuild_reports_a_full_refresh(clean_env, capsys):
    assert main(["sync", "--rebuild"]) == 0
    out = capsys.readouterr().out
    assert "rollups: full refresh of" in out
    assert "rebuild requested" in out
    assert "pieces written" in out


def test_sync_with_database_down_exits_1(clean_env, monkeypatch, capsys):
    # Port 1 on the loopback interface refuses connections at once.
    monkeypatch.setenv("ANALYTICS_MONGODB_URI", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300")
    monkeypatch.setenv("ANALYTICS_CREATE_INDEXES", "false")
    assert main(["sync"]) == 1
    assert "database" in capsys.readouterr().err.lower()


def test_serve_without_secret_exits_2(clean_env, capsys):
    assert main(["serve"]) == 2
    assert "ANALYTICS_JWT_SECRET" in capsys.readouterr().err


def test_unknown_subcommand_exits_2(clean_env):
    with pytest.raises(SystemExit) as raised:
        main(["refresh"])
    assert raised.value.code == 2


def test_demo_scale_zero_is_rejected(clean_env):
    with pytest.raises(SystemExit) as raised:
        main(["demo", "--scale", "0"])
    assert raised.value.code == 2


def test_import_missing_directory_exits_2(clean_env, tmp_path, capsys):
    assert main(["import", str(tmp_path / "missing"), "--no-progress"]) == 2
    assert "missing" in capsys.readouterr().err


def test_import_reports_invalid_line_and_exits_1(clean_env, tmp_path, capsys):
    export = tmp_path / "export"
    export.mkdir()
    (export / "users.jsonl").write_text('{"_id": {"$oid": "6643b1b7a4a4e6e1a8e7b1a0"}}\n{not json\n')
    assert main(["import", str(export), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "users: 1 inserted, 1 invalid" in captured.out
    assert "users.jsonl:2" in captured.err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_demo_serves_cards_with_printed_token(tmp_path):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANALYTICS_")}
    env.update(ANALYTICS_HOST="127.0.0.1", ANALYTICS_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "analytics_service", "demo"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("try: curl"):
                break
        output = "".join(lines)
        assert "serving on" in output, output
        token = lines[lines.index("admin bearer token, valid for 24 hours:\n") + 1].strip()
        base = f"http://127.0.0.1:{port}/api/v1/analytics"

        for kind in ("kpis", "charts", "ranked-lists"):
            status, body = _get(f"{base}/{kind}", token)
            assert status == 200
            for card in body["cards"]:
                for frame, data in card["timeFrames"].items():
                    assert data["status"] in {"ok", "unavailable"}, (card["cardId"], frame)
                    if data["status"] == "unavailable":
                        assert data["reason"], (card["cardId"], frame)
                        assert data["value"] is None
                if card["source"] == "provider":
                    assert card["status"] == "ok", card["cardId"]
        status, _ = _get(f"{base}/kpis")
        assert status == 401
        status, body = _get(f"{base}/charts/usersRegistrationsOverTime?timeFrame=month", token)
        assert len(body["timeFrames"]["month"]["points"]) == 30
    finally:
        process.send_signal(signal.SIGINT)
        remaining, _ = process.communicate(timeout=30)
    assert process.returncode == 0, remaining


def _start(arguments: list[str], tmp_path, **variables: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANALYTICS_")}
    env.update(variables)
    return subprocess.Popen(
        [sys.executable, "-m", "analytics_service", *arguments],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _terminate(process: subprocess.Popen) -> tuple[float, str]:
    """Send SIGTERM and wait for the exit; return the seconds it took and the output."""
    started = time.monotonic()
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return time.monotonic() - started, process.stdout.read()


def _wait_healthy(port: int, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve did not become healthy")


def test_serve_exits_soon_after_sigterm(tmp_path):
    port = _free_port()
    process = _start(["serve"], tmp_path, ANALYTICS_HOST="127.0.0.1", ANALYTICS_PORT=str(port),
                     ANALYTICS_JWT_SECRET="j" * 40, ANALYTICS_SHUTDOWN_GRACE_SECONDS="5")
    try:
        _wait_healthy(port, process)
    except BaseException:
        process.kill()
        raise
    elapsed, output = _terminate(process)
    assert process.returncode == 0, output
    assert elapsed < 5, f"exit took {elapsed:.1f} s"
    assert "scheduler stopped" in output


def test_demo_sigterm_during_first_sync_exits(tmp_path):
    port = _free_port()
    process = _start(["demo"], tmp_path, ANALYTICS_HOST="127.0.0.1", ANALYTICS_PORT=str(port))
    try:
        for line in process.stdout:
            if line.startswith("loaded demo data"):
                break
        time.sleep(2)  # the first sync of the demo data takes far longer than this
    except BaseException:
        process.kill()
        raise
    elapsed, output = _terminate(process)
    assert process.returncode == 0, output
    assert "cancelled" in output
    assert "serving on" not in output
    assert elapsed < 10, f"exit took {elapsed:.1f} s"


def test_invalid_ga4_credentials_exit_2_with_one_line(clean_env, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ANALYTICS_PROVIDER", "ga4")
    monkeypatch.setenv("ANALYTICS_GA4_PROPERTY_ID", "123456")
    monkeypatch.setenv("ANALYTICS_GA4_CREDENTIALS_JSON", "{not json")
    monkeypatch.setenv("ANALYTICS_GA4_ENDPOINT", "127.0.0.1:1")
    assert main(["sync"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("invalid configuration: GA4 credentials")
    assert "Traceback" not in error


def test_demo_rejects_scale_with_dataset(clean_env, tmp_path):
    with pytest.raises(SystemExit) as raised:
        main(["demo", "--dataset", str(tmp_path), "--scale", "2"])
    assert raised.value.code == 2
