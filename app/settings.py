"""Settings: one frozen value, read once from the environment with ``starlette.config.Config``."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar

from starlette.config import Config

ENV_FILE = ".env"
MIB = 1024 * 1024
GIB = 1024 * MIB

T = TypeVar("T")
LogFormat = Literal["text", "json"]


class SettingsError(ValueError):
    """An environment variable holds a value of the wrong form; the message names the variable."""


#: Every variable ``Settings.from_environ`` reads.
VARIABLES = (
    *("ECHO_MAX_BODY_BYTES", "ECHO_MAX_INFLIGHT_BYTES", "ECHO_MAX_HEADER_BYTES", "ECHO_MAX_TARGET_BYTES"),
    *("ECHO_HEADER_TIMEOUT_S", "ECHO_BODY_TIMEOUT_S", "ECHO_WRITE_TIMEOUT_S", "ECHO_MAX_STREAM_BYTES"),
    *("ECHO_MAX_DELAY_MS", "ECHO_CONTROLS", "ECHO_ALLOW_ACTIVE_CONTENT", "ECHO_PREFIX", "ECHO_METRICS"),
    *("ECHO_ACCESS_LOG", "ECHO_LOG_FORMAT", "ECHO_LOG_ECHO", "ECHO_LOG_REDACT", "ECHO_CORS_ORIGINS"),
    *("ECHO_WS_IDLE_TIMEOUT_S", "ECHO_POD_NAME", "ECHO_POD_NAMESPACE", "ECHO_NODE_NAME", "ECHO_POD_IP"),
)
#: ``ECHO_*`` names that are not settings but are expected: compose's variables, and the prefixes of the webhook
#: secrets and of Kubernetes service links (``ECHO_PORT_8080_TCP``, ``ECHO_SERVICE_HOST`` for a Service ``echo``).
OTHER_VARIABLES = ("ECHO_DEV_PORT", "ECHO_IMAGE_PORT", "ECHO_IMAGE")
OTHER_PREFIXES = ("ECHO_PORT", "ECHO_SERVICE_", "ECHO_WEBHOOK_SECRET_")
#: An unknown name this close to a setting's (edits: insertions, deletions, substitutions) is taken for a typo.
TYPO_DISTANCE = 2


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """The ``ECHO_*`` names in ``environ`` (default ``os.environ``) and ``.env`` that nothing reads, sorted.

    Raises:
        SettingsError: one of them is within ``TYPO_DISTANCE`` edits of a setting ("did you mean ...?").
    """
    names = set(os.environ if environ is None else environ)
    if os.path.isfile(ENV_FILE):
        names |= set(Config(ENV_FILE, environ={}).file_values)
    unknown = sorted(
        name
        for name in names
        if name.startswith("ECHO_") and name not in VARIABLES + OTHER_VARIABLES and not name.startswith(OTHER_PREFIXES)
    )
    for name in unknown:
        closest = min(VARIABLES, key=lambda known: edit_distance(name, known, TYPO_DISTANCE + 1))
        if edit_distance(name, closest, TYPO_DISTANCE + 1) <= TYPO_DISTANCE:
            raise SettingsError(f"{name} is not a setting: did you mean {closest}?")
    return unknown


def edit_distance(first: str, second: str, ceiling: int) -> int:
    """Levenshtein distance between two names, or ``ceiling`` when it is at least that (stops early)."""
    if abs(len(first) - len(second)) >= ceiling:
        return ceiling
    previous = list(range(len(second) + 1))
    for row, letter in enumerate(first, 1):
        current = [row]
        for column, other in enumerate(second, 1):
            current.append(min(previous[column] + 1, current[column - 1] + 1, previous[column - 1] + (letter != other)))
        if min(current) >= ceiling:
            return ceiling
        previous = current
    return min(previous[-1], ceiling)


@dataclass(frozen=True, slots=True)
class Instance:
    """Which replica answers: Kubernetes pod facts passed in through the Downward API (all optional)."""

    pod_name: str | None = None
    pod_namespace: str | None = None
    node_name: str | None = None
    pod_ip: str | None = None

    def as_document(self) -> dict[str, str | None] | None:
        """The JSON echo's ``instance`` object, or None when no variable is set."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return values if any(value is not None for value in values.values()) else None


def _default_redact() -> tuple[str, ...]:
    return ("authorization", "proxy-authorization", "cookie", "set-cookie")


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective configuration; units are in the field names. docs/configuration.md lists each variable."""

    #: ECHO_MAX_BODY_BYTES: largest request content echoed; past it 413 (RFC 9110 §15.5.14).
    max_body_bytes: int = 10 * MIB
    #: ECHO_MAX_INFLIGHT_BYTES: request content held in memory at once, across all requests; past it 503.
    max_inflight_bytes: int = 256 * MIB
    #: ECHO_MAX_HEADER_BYTES: largest request head (request line and fields); past it 431.
    max_header_bytes: int = 64 * 1024
    #: ECHO_MAX_TARGET_BYTES: longest request target; past it 414.
    max_target_bytes: int = 16 * 1024
    #: ECHO_HEADER_TIMEOUT_S: time for a request head to arrive complete; past it 408.
    header_timeout_s: float = 10.0
    #: ECHO_BODY_TIMEOUT_S: time the request content may make no progress; past it 408.
    body_timeout_s: float = 30.0
    #: ECHO_WRITE_TIMEOUT_S: time a response may make no write progress while output waits; past it the
    #: connection is closed. An idle stream, a delay or a hang is not a write stall.
    write_timeout_s: float = 30.0
    #: ECHO_MAX_STREAM_BYTES: largest content sent back in ``echo_mode=stream``.
    max_stream_bytes: int = 4 * GIB
    #: ECHO_MAX_DELAY_MS: ceiling of the ``delay`` control, in milliseconds.
    max_delay_ms: int = 10_000
    #: ECHO_CONTROLS: whether ``echo_*`` parameters and ``X-Echo-*`` fields act as controls.
    controls: bool = True
    #: ECHO_ALLOW_ACTIVE_CONTENT: whether ``content_type`` may name a type a browser runs (HTML, SVG, JS).
    allow_active_content: bool = False
    #: ECHO_PREFIX: path prefix of the server's own endpoints; never echoed.
    prefix: str = "/_echo"
    #: ECHO_METRICS: whether ``{prefix}/metrics`` serves Prometheus metrics.
    metrics: bool = True
    #: ECHO_ACCESS_LOG: one line per request on stdout.
    access_log: bool = True
    log_format: LogFormat = "text"
    #: ECHO_LOG_ECHO: also log each request's full echo (secrets redacted).
    log_echo: bool = False
    #: ECHO_LOG_REDACT: field names (lowercase) whose values are redacted in logs; empty turns it off.
    log_redact: tuple[str, ...] = field(default_factory=_default_redact)
    #: ECHO_CORS_ORIGINS: ``*`` or the allowed origins, comma-separated.
    cors_origins: tuple[str, ...] = ("*",)
    #: ECHO_WS_IDLE_TIMEOUT_S: a WebSocket with no message for this long is closed with 1001.
    ws_idle_timeout_s: float = 300.0
    instance: Instance = field(default_factory=Instance)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``ECHO_*`` variables from ``environ`` (default ``os.environ``) and ``.env`` if present. Raises
        ``SettingsError``, naming the variable, for a value of the wrong form."""
        env_file = ENV_FILE if os.path.isfile(ENV_FILE) else None
        config = Config(env_file, environ=os.environ if environ is None else environ)
        default = cls()

        def read(name: str, parse: Callable[[str, str], T], fallback: T) -> T:
            raw = config(name, default=None)
            return fallback if raw is None else parse(name, raw)

        return cls(
            max_body_bytes=read("ECHO_MAX_BODY_BYTES", _positive_int, default.max_body_bytes),
            max_inflight_bytes=read("ECHO_MAX_INFLIGHT_BYTES", _positive_int, default.max_inflight_bytes),
            max_header_bytes=read("ECHO_MAX_HEADER_BYTES", _positive_int, default.max_header_bytes),
            max_target_bytes=read("ECHO_MAX_TARGET_BYTES", _positive_int, default.max_target_bytes),
            header_timeout_s=read("ECHO_HEADER_TIMEOUT_S", _positive_seconds, default.header_timeout_s),
            body_timeout_s=read("ECHO_BODY_TIMEOUT_S", _positive_seconds, default.body_timeout_s),
            write_timeout_s=read("ECHO_WRITE_TIMEOUT_S", _positive_seconds, default.write_timeout_s),
            max_stream_bytes=read("ECHO_MAX_STREAM_BYTES", _positive_int, default.max_stream_bytes),
            max_delay_ms=read("ECHO_MAX_DELAY_MS", _non_negative_int, default.max_delay_ms),
            controls=read("ECHO_CONTROLS", _boolean, default.controls),
            allow_active_content=read("ECHO_ALLOW_ACTIVE_CONTENT", _boolean, default.allow_active_content),
            prefix=read("ECHO_PREFIX", _prefix, default.prefix),
            metrics=read("ECHO_METRICS", _boolean, default.metrics),
            access_log=read("ECHO_ACCESS_LOG", _boolean, default.access_log),
            log_format=read("ECHO_LOG_FORMAT", _log_format, default.log_format),
            log_echo=read("ECHO_LOG_ECHO", _boolean, default.log_echo),
            log_redact=read("ECHO_LOG_REDACT", _name_list, default.log_redact),
            cors_origins=read("ECHO_CORS_ORIGINS", _origins, default.cors_origins),
            ws_idle_timeout_s=read("ECHO_WS_IDLE_TIMEOUT_S", _positive_seconds, default.ws_idle_timeout_s),
            instance=Instance(
                pod_name=config("ECHO_POD_NAME", default=None),
                pod_namespace=config("ECHO_POD_NAMESPACE", default=None),
                node_name=config("ECHO_NODE_NAME", default=None),
                pod_ip=config("ECHO_POD_IP", default=None),
            ),
        )

    def public_document(self) -> dict[str, Any]:
        """The effective settings as JSON-ready values, for ``{prefix}/config`` (nothing secret is kept here)."""
        document = {f.name: getattr(self, f.name) for f in fields(self)}
        document["instance"] = self.instance.as_document()
        return {name: list(value) if isinstance(value, tuple) else value for name, value in document.items()}


def _positive_int(name: str, raw: str) -> int:
    value = _non_negative_int(name, raw)
    if value < 1:
        raise SettingsError(f"{name}={raw!r} must be at least 1")
    return value


def _non_negative_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer (expected a whole number, e.g. 1024)") from None
    if value < 0:
        raise SettingsError(f"{name}={raw!r} must not be negative")
    return value


def _positive_seconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds (e.g. 300 or 0.5)") from None
    if not 0 < value < float("inf"):
        raise SettingsError(f"{name}={raw!r} must be a positive number of seconds")
    return value


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (expected true or false)")


def _log_format(name: str, raw: str) -> LogFormat:
    if raw == "text":
        return "text"
    if raw == "json":
        return "json"
    raise SettingsError(f"{name}={raw!r} is invalid (expected text or json)")


_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")


def _prefix(name: str, raw: str) -> str:
    if not _PREFIX.fullmatch(raw):
        raise SettingsError(f"{name}={raw!r} is invalid (expected a path such as /_echo, no trailing slash)")
    return raw


def _name_list(name: str, raw: str) -> tuple[str, ...]:
    return tuple(item.strip().lower() for item in raw.split(",") if item.strip())


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?|\*")


def _origins(name: str, raw: str) -> tuple[str, ...]:
    origins = tuple(item.strip() for item in raw.split(",") if item.strip())
    bad = [origin for origin in origins if not _ORIGIN.fullmatch(origin)]
    if not origins or bad:
        raise SettingsError(f"{name}={raw!r} is invalid (expected * or origins like https://app.example:8443)")
    if "*" in origins and len(origins) > 1:
        raise SettingsError(f"{name}={raw!r} mixes * with origins (expected * alone or a list of origins)")
    return origins
