"""Settings read from the environment, and start-up refused on a bad value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.settings import DEFAULT_MAX_BODY_BYTES, Settings, SettingsError
from tests.servers import ROOT


def test_defaults() -> None:
    assert Settings.from_environ({}).max_body_bytes == DEFAULT_MAX_BODY_BYTES == 10 * 1024 * 1024


def test_max_body_bytes_from_environment() -> None:
    assert Settings.from_environ({"ECHO_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10x", "ECHO_MAX_BODY_BYTES='10x' is not an integer"),
        ("0", "ECHO_MAX_BODY_BYTES='0' must be at least 1"),
        ("-5", "ECHO_MAX_BODY_BYTES='-5' must be at least 1"),
    ],
)
def test_invalid_value_names_the_variable(value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_environ({"ECHO_MAX_BODY_BYTES": value})


def test_invalid_value_stops_startup_with_one_line() -> None:
    env = {**os.environ, "ECHO_MAX_BODY_BYTES": "lots"}
    result = subprocess.run(
        [sys.executable, "-c", "import app.main"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    expected = "ECHO_MAX_BODY_BYTES='lots' is not an integer (expected a whole number of bytes, e.g. 10485760)"
    assert result.stderr.strip().splitlines() == [f"asgi-echo: invalid setting: {expected}"]
