"""Settings read from the environment, and start-up refused on a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from app.settings import GIB, MIB, Instance, Settings, SettingsError, edit_distance, unknown_variables
from tests.servers import ROOT


def test_defaults() -> None:
    settings = Settings.from_environ({})
    assert settings == Settings()
    assert settings.max_body_bytes == 10 * MIB
    assert settings.max_stream_bytes == 4 * GIB
    assert settings.max_delay_ms == 10_000
    assert settings.prefix == "/_echo"
    assert settings.log_redact == ("authorization", "proxy-authorization", "cookie", "set-cookie")
    assert settings.cors_origins == ("*",)
    assert settings.ws_idle_timeout_s == 300.0
    assert settings.instance.as_document() is None


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("ECHO_MAX_BODY_BYTES", "2048", "max_body_bytes", 2048),
        ("ECHO_MAX_STREAM_BYTES", "1", "max_stream_bytes", 1),
        ("ECHO_MAX_DELAY_MS", "0", "max_delay_ms", 0),
        ("ECHO_CONTROLS", "false", "controls", False),
        ("ECHO_ALLOW_ACTIVE_CONTENT", "TRUE", "allow_active_content", True),
        ("ECHO_PREFIX", "/_internal/echo", "prefix", "/_internal/echo"),
        ("ECHO_METRICS", "0", "metrics", False),
        ("ECHO_ACCESS_LOG", "off", "access_log", False),
        ("ECHO_LOG_FORMAT", "json", "log_format", "json"),
        ("ECHO_LOG_ECHO", "yes", "log_echo", True),
        ("ECHO_LOG_REDACT", "Authorization, X-Api-Key", "log_redact", ("authorization", "x-api-key")),
        ("ECHO_LOG_REDACT", "", "log_redact", ()),
        ("ECHO_CORS_ORIGINS", "https://a.example, http://b.example:8080", "cors_origins",
         ("https://a.example", "http://b.example:8080")),
        ("ECHO_WS_IDLE_TIMEOUT_S", "0.5", "ws_idle_timeout_s", 0.5),
    ],
)  # fmt: skip
def test_each_variable(variable: str, value: str, field: str, expected: Any) -> None:
    assert getattr(Settings.from_environ({variable: value}), field) == expected


def test_pod_variables_make_the_instance() -> None:
    settings = Settings.from_environ({"ECHO_POD_NAME": "echo-7d9", "ECHO_POD_IP": "10.1.2.3"})
    assert settings.instance == Instance(pod_name="echo-7d9", pod_ip="10.1.2.3")
    assert settings.instance.as_document() == {
        "pod_name": "echo-7d9",
        "pod_namespace": None,
        "node_name": None,
        "pod_ip": "10.1.2.3",
    }


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ECHO_MAX_BODY_BYTES", "10x", "ECHO_MAX_BODY_BYTES='10x' is not an integer"),
        ("ECHO_MAX_BODY_BYTES", "0", "ECHO_MAX_BODY_BYTES='0' must be at least 1"),
        ("ECHO_MAX_DELAY_MS", "-5", "ECHO_MAX_DELAY_MS='-5' must not be negative"),
        ("ECHO_CONTROLS", "maybe", "ECHO_CONTROLS='maybe' is not a boolean"),
        ("ECHO_LOG_FORMAT", "xml", "ECHO_LOG_FORMAT='xml' is invalid"),
        ("ECHO_PREFIX", "_echo/", "ECHO_PREFIX='_echo/' is invalid"),
        ("ECHO_CORS_ORIGINS", "*, https://a.example", "mixes"),
        ("ECHO_CORS_ORIGINS", "javascript:alert(1)", "ECHO_CORS_ORIGINS='javascript:alert(1)' is invalid"),
        ("ECHO_WS_IDLE_TIMEOUT_S", "0", "must be a positive number of seconds"),
        ("ECHO_WS_IDLE_TIMEOUT_S", "soon", "is not a number of seconds"),
    ],
)
def test_invalid_value_names_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("*", r"\*").replace("(", r"\(").replace(")", r"\)")):
        Settings.from_environ({variable: value})


def test_invalid_value_stops_startup_with_one_line() -> None:
    env = {**os.environ, "ECHO_MAX_BODY_BYTES": "lots"}
    result = subprocess.run(
        [sys.executable, "-c", "import app.main"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    expected = "ECHO_MAX_BODY_BYTES='lots' is not an integer (expected a whole number, e.g. 1024)"
    assert result.stderr.strip().splitlines() == [f"asgi-echo: invalid setting: {expected}"]


def test_a_near_miss_of_a_setting_stops_startup_naming_the_setting() -> None:
    env = {**os.environ, "ECHO_METRIC": "false"}
    result = subprocess.run(
        [sys.executable, "-c", "import app.main"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    expected = "asgi-echo: invalid setting: ECHO_METRIC is not a setting: did you mean ECHO_METRICS?"
    assert result.stderr.strip().splitlines() == [expected]


@pytest.mark.parametrize(
    ("typo", "setting"),
    [
        ("ECHO_METRIC", "ECHO_METRICS"),
        ("ECHO_MAX_BODY_BYTE", "ECHO_MAX_BODY_BYTES"),
        ("ECHO_ACESS_LOG", "ECHO_ACCESS_LOG"),
        ("ECHO_CORS_ORIGIN", "ECHO_CORS_ORIGINS"),
        ("ECHO_LOG_FROMAT", "ECHO_LOG_FORMAT"),
    ],
)
def test_names_within_two_edits_of_a_setting_are_typos(typo: str, setting: str) -> None:
    with pytest.raises(SettingsError, match=f"did you mean {setting}"):
        unknown_variables({typo: "1"})


def test_other_unknown_names_are_returned_and_expected_ones_are_not() -> None:
    environ = {
        "ECHO_SOMETHING_ELSE": "1",
        "ECHO_DEV_PORT": "5000",
        "ECHO_IMAGE_PORT": "8080",
        "ECHO_PORT": "tcp://10.0.0.1:80",
        "ECHO_PORT_80_TCP_ADDR": "10.0.0.1",
        "ECHO_SERVICE_HOST": "10.0.0.1",
        "ECHO_WEBHOOK_SECRET_GITHUB": "s",
        "ECHO_METRICS": "false",
        "PATH": "/bin",
    }
    assert unknown_variables(environ) == ["ECHO_SOMETHING_ELSE"]


def test_a_warning_names_unknown_variables_once_and_the_server_serves() -> None:
    env = {**os.environ, "ECHO_SOMETHING_ELSE": "1"}
    script = "import logging; logging.basicConfig(); import app.main"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert result.stderr.count("asgi-echo ignores unknown variables: ECHO_SOMETHING_ELSE") == 1


@pytest.mark.parametrize(
    ("first", "second", "distance"),
    [("ECHO_A", "ECHO_A", 0), ("ECHO_A", "ECHO_B", 1), ("ECHO_AB", "ECHO_BA", 2), ("ECHO_", "ECHO_ABCDEF", 3)],
)
def test_edit_distance_stops_at_its_ceiling(first: str, second: str, distance: int) -> None:
    assert edit_distance(first, second, 3) == distance


def test_config_endpoint_shows_the_effective_settings() -> None:
    document = Settings(max_delay_ms=5).public_document()
    assert document["max_delay_ms"] == 5
    assert document["cors_origins"] == ["*"]
    assert document["instance"] is None
