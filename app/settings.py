"""Settings: one frozen value, read once from the environment with ``starlette.config.Config``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.config import Config

ENV_FILE = ".env"
MIB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 10 * MIB


class SettingsError(ValueError):
    """An environment variable holds a value of the wrong form; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The server's effective configuration.

    Every field carries its unit in its name. Build one with ``Settings.from_environ()`` (what
    ``app.main`` does) or directly in tests: ``Settings(max_body_bytes=16)``.
    """

    #: Largest request content echoed, in bytes; past it the answer is 413 (RFC 9110 §15.5.14).
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: Path prefix of the server's own endpoints (health, config, metrics); never echoed.
    prefix: str = "/_echo"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``ECHO_*`` variables from ``environ`` (default ``os.environ``) and ``.env`` if present.

        Raises:
            SettingsError: a variable is set to a value of the wrong form, e.g.
                ``ECHO_MAX_BODY_BYTES='10x' is not an integer``.
        """
        env_file = ENV_FILE if os.path.isfile(ENV_FILE) else None
        config = Config(env_file, environ=os.environ if environ is None else environ)
        return cls(max_body_bytes=_positive_int(config, "ECHO_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def _positive_int(config: Config, name: str, default: int) -> int:
    raw = config(name, default=None)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(
            f"{name}={raw!r} is not an integer (expected a whole number of bytes, e.g. {default})"
        ) from None
    if value < 1:
        raise SettingsError(f"{name}={raw!r} must be at least 1")
    return value
