"""How asgi-echo runs uvicorn, as ``UVICORN_*`` variables (a flag still wins): the image, ``python -m app``, tests."""

from __future__ import annotations

#: Proxy fields are echoed, never trusted (a forged ``X-Forwarded-For`` must not become the client); requests
#: still running get 8 s after SIGTERM (a Kubernetes pod gets 30); the loop bounds TLS handshakes and closes.
SERVER_ENVIRONMENT: dict[str, str] = {
    "UVICORN_HTTP": "app.server.protocol:EchoHttpToolsProtocol",
    "UVICORN_LOOP": "app.server.event_loop:TlsBoundedLoop",
    "UVICORN_PROXY_HEADERS": "false",
    "UVICORN_ACCESS_LOG": "false",
    "UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN": "8",
    "UVICORN_LIMIT_CONCURRENCY": "1000",
}


def as_flags() -> tuple[str, ...]:
    """The same defaults as uvicorn flags, for a command line that names them (``uvicorn app.main:app ...``)."""
    flags: list[str] = []
    for name, value in SERVER_ENVIRONMENT.items():
        option = "--" + name.removeprefix("UVICORN_").lower().replace("_", "-")
        if value == "false":
            flags.append(option.replace("--", "--no-", 1))
        elif value == "true":
            flags.append(option)
        else:
            flags.extend((option, value))
    return tuple(flags)
