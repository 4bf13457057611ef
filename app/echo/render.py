"""Pure echo rendering: request facts in, the text echo's parts or the JSON echo document out."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import orjson
from python_multipart.multipart import parse_options_header
from starlette.types import Scope

from app.echo.body import Body
from app.echo.client_source import client_source
from app.echo.clock import Rfc3339Clock
from app.echo.forms import MULTIPART, URLENCODED, decode_pairs, group_pairs, parse_form
from app.echo.head import parse_content_length
from app.echo.json_content import is_json_media_type, parse_json, parse_memory_bytes
from app.echo.render_memory import json_render_bytes
from app.server.wire import WireFacts, names_as_sent, wire_of

Field = tuple[bytes, bytes]


# A plain class, not a dataclass: built per request (as app.echo.head.HeadFacts).
class RequestFacts:
    """What one request carried: ``headers`` in arrival order, duplicates kept, names lowercase; ``target`` as
    received (RFC 9112 §3.2), the raw path, then ``?`` and the raw query when it is not empty."""

    __slots__ = (
        "body",
        "client",
        "headers",
        "http_version",
        "method",
        "path",
        "query_string",
        "received_at_s",
        "scheme",
        "server",
        "target",
        "wire",
    )

    def __init__(
        self,
        method: str,
        target: bytes,
        path: str,
        query_string: bytes,
        http_version: str,
        scheme: str,
        client: tuple[str, int] | None,
        server: tuple[str, int | None] | None,
        headers: list[Field],
        body: Body,
        received_at_s: float,
        wire: WireFacts | None = None,
    ) -> None:
        self.method = method
        self.target = target
        self.path = path
        self.query_string = query_string
        self.http_version = http_version
        self.scheme = scheme
        self.client = client
        self.server = server
        self.headers = headers
        self.body = body
        self.received_at_s = received_at_s
        self.wire = wire

    @classmethod
    def from_scope(cls, scope: Scope, body: Body, received_at_s: float) -> RequestFacts:
        """The facts of an ASGI HTTP ``scope``; ``received_at_s``: when it reached the app, epoch seconds."""
        query_string: bytes = scope.get("query_string", b"")
        # Positional, and by its name rather than ``cls``: mypyc calls its native constructor directly.
        return RequestFacts(
            scope["method"],
            request_target(scope),
            scope["path"],
            query_string,
            scope.get("http_version", "1.1"),
            scope.get("scheme", "http"),
            scope.get("client"),
            scope.get("server"),
            scope["headers"],  # read only: no copy
            body,
            received_at_s,
            wire_of(scope),
        )


def request_target(scope: Scope) -> bytes:
    """The request target as received (RFC 9112 §3.2): the raw path, then ``?`` and the raw query if any."""
    query_string: bytes = scope.get("query_string", b"")
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path is None:  # optional in the ASGI spec: rebuild it from the decoded path
        raw_path = quote(scope["path"], safe="/:@!$&'()*+,;=~-._").encode("ascii")
    return raw_path + b"?" + query_string if query_string else raw_path


MAX_CACHED_NAME_BYTES = 64


def canonical_name(name: bytes) -> bytes:
    """Title-Case a lowercase field name at each ``-`` (``x-request-id`` → ``X-Request-Id``). Only names up to
    ``MAX_CACHED_NAME_BYTES`` are cached, so clients cannot fill memory with long distinct names."""
    if len(name) > MAX_CACHED_NAME_BYTES:
        return _title_case(name)
    return _cached_title_case(name)


def _title_case(name: bytes) -> bytes:
    return b"-".join([word[:1].upper() + word[1:] for word in name.split(b"-")])


_cached_title_case = functools.lru_cache(maxsize=1024)(_title_case)


NAMES_AS_SENT = b"NAMES: as sent\n"
NAMES_TITLE_CASED = b"NAMES: Title-Case (the original case was not kept)\n"
_AS_SENT_LINES = b"\n" + NAMES_AS_SENT + b"HEADERS:\n"
_TITLE_CASED_LINES = b"\n" + NAMES_TITLE_CASED + b"HEADERS:\n"


def text_echo(
    method: str, target: bytes, headers: list[Field], wire: WireFacts | None, chunks: Sequence[bytes]
) -> list[bytes]:
    """The text echo as parts to send in order: the head, then the content ``chunks`` untouched::

        METHOD: POST\\nTARGET: /p?x=1\\nNAMES: as sent\\nHEADERS:\\nHost: h\\n...\\n\\nBODY:\\n<content bytes>

    Names are as sent when the raw head was kept (``NAMES: as sent``), else Title-Case. A request with trailer
    fields gets ``TRAILERS:`` and one line per field, names as sent, after the header fields' empty line.
    """
    sent = names_as_sent(wire, headers)
    lines = [b"METHOD: ", method.encode("latin-1"), b"\nTARGET: ", target]
    if sent is None:
        lines.append(_TITLE_CASED_LINES)
        names = [canonical_name(name) for name, _ in headers]
    else:
        lines.append(_AS_SENT_LINES)
        names = sent
    # One name per field: names_as_sent checks the lengths.
    for name, (_, value) in zip(names, headers, strict=False):
        lines += (name, b": ", value, b"\n")
    if wire is not None and wire.trailers:
        lines.append(b"\nTRAILERS:\n")
        for name, value in wire.trailers:
            lines += (name, b": ", value, b"\n")
    lines.append(b"\nBODY:\n")
    return [b"".join(lines), *chunks]


def json_echo(
    facts: RequestFacts,
    hostname: str,
    applied: dict[str, Any] | None = None,
    instance: dict[str, str | None] | None = None,
    unparsed_reason: str | None = None,
) -> bytes:
    """The JSON echo document, UTF-8 (docs/echo-formats.md lists its fields); ``applied``: what the controls
    changed, ``instance``: the Kubernetes pod facts; ``unparsed_reason``: why JSON content is not parsed."""
    headers: list[list[str]] = []
    header_map: dict[str, list[str]] = {}
    cookies: list[bytes] = []
    lengths: list[bytes] = []
    codings: list[bytes] = []
    content_type: bytes | None = None
    for name, value in facts.headers:
        pair = [name.decode("latin-1"), value.decode("latin-1")]
        headers.append(pair)
        header_map.setdefault(pair[0], []).append(pair[1])
        if name == b"cookie":
            cookies.append(value)
        elif name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            codings.append(value)
        elif name == b"content-type" and content_type is None:
            content_type = value
    content = facts.body.joined()
    media_type, params = _media_type(content_type)
    parsed_json, json_error = None, None
    if is_json_media_type(media_type):
        parsed_json, json_error = (None, unparsed_reason) if unparsed_reason else parse_json(content)
    form, form_error = parse_form(media_type, params, content)
    wire = facts.wire
    sent = names_as_sent(wire, facts.headers)
    first_ms, last_ms = wire.body_timing_ms() if wire else (None, None)
    peer = wire.peer if wire else None
    client = None
    if facts.client is not None:
        source = client_source(facts.client, peer, facts.headers)
        client = {"ip": facts.client[0], "port": facts.client[1], "source": source}
    server = None if facts.server is None else {"host": facts.server[0], "port": facts.server[1]}
    document = {
        "method": facts.method,
        "target": facts.target.decode("latin-1"),
        "path": facts.path,
        "query_string": facts.query_string.decode("latin-1"),
        "query": group_pairs(decode_pairs(facts.query_string)) if facts.query_string else {},
        "http_version": facts.http_version,
        "scheme": facts.scheme,
        "client": client,
        "server": server,
        "headers": headers,
        "header_map": header_map,
        "headers_as_sent": None
        if sent is None
        else [[name.decode("latin-1"), pair[1]] for name, pair in zip(sent, headers, strict=True)],
        "raw_head": wire.raw_head.decode("latin-1") if wire and wire.raw_head else None,
        "trailers": None
        if wire is None
        else [[name.decode("latin-1"), value.decode("latin-1")] for name, value in wire.trailers],
        "connection": {
            "peer": None if peer is None else {"ip": peer[0], "port": peer[1]},
            "local": None if server is None else {"ip": server["host"], "port": server["port"]},
            "request_index": wire.request_index if wire else None,
            "pipelined": wire.pipelined if wire else None,
            "tls": wire.tls if wire else None,
        },
        "cookies": cookie_pairs(cookies),
        "body": {
            **body_document(facts.body, content),
            "declared_length": parse_content_length(lengths[0]) if lengths else None,
            "chunked": b"chunked" in b",".join(codings).lower(),
            "received_length": facts.body.size_bytes,
            "first_byte_ms": first_ms,
            "last_byte_ms": last_ms,
        },
        "json": parsed_json,
        "json_error": json_error,
        "form": form,
        "form_error": form_error,
        "hostname": hostname,
        "received_at": rfc3339(facts.received_at_s),
        "instance": instance,
        "applied": applied or {},
    }
    return dump_json(document)


_CLOCK = Rfc3339Clock()


def rfc3339(epoch_s: float) -> str:
    """Seconds since the epoch as RFC 3339 UTC with microseconds: ``2026-01-02T03:04:05.000006Z``."""
    return _CLOCK.format(epoch_s, 6)


def dump_json(document: Any) -> bytes:
    """Compact UTF-8 JSON (RFC 8259). What orjson refuses, lone surrogates from parsed request JSON and integers
    beyond 64 bits, goes through the standard library (``\\u`` escapes). NaN would be ``null``; none is parsed."""
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:
        return json.dumps(document, allow_nan=False, separators=(",", ":")).encode("ascii")  # compact, as orjson


def json_parse_bytes(content_type: bytes | None, body: Body) -> int:
    """The memory parsing ``body`` as JSON would hold (0 when ``content_type``, the request's first, is not
    JSON), in bytes."""
    if not body.size_bytes or not is_json_media_type(_media_type(content_type)[0]):
        return 0
    return parse_memory_bytes(body.chunks)


def render_bytes(content_type: bytes | None, body: Body) -> int:
    """The memory rendering the JSON echo of ``body`` holds beyond the content (``content_type``: the request's
    first), in bytes; a form's fields count twice."""
    if not body.size_bytes:
        return 0
    return json_render_bytes(body.chunks, form=_media_type(content_type)[0] in (URLENCODED, MULTIPART))


def cookie_pairs(cookie_fields: list[bytes]) -> list[list[str]]:
    """``Cookie`` fields as ``[name, value]`` pairs as sent, duplicates kept (RFC 6265 §5.4); no ``=``: empty value."""
    pairs: list[list[str]] = []
    for cookie_field in cookie_fields:
        for segment in cookie_field.decode("latin-1").split(";"):
            segment = segment.strip()
            if segment:
                name, _, value = segment.partition("=")
                pairs.append([name.strip(), value.strip()])
    return pairs


def _media_type(content_type: bytes | None) -> tuple[str, dict[str, str]]:
    """The lowercase media type and the parameters of a ``Content-Type`` value (``""``, ``{}`` without one)."""
    if content_type is None:
        return "", {}
    media_type, params = parse_options_header(content_type)
    return media_type.decode("latin-1"), {
        name.decode("latin-1"): value.decode("latin-1") for name, value in params.items()
    }


def body_document(body: Body, content: bytes | None = None) -> dict[str, Any]:
    """The JSON echo's ``body`` object; ``content`` is ``body.joined()`` when the caller has it already."""
    if content is None:
        content = body.joined()
    try:
        value, encoding = content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        value, encoding = base64.b64encode(content).decode("ascii"), "base64"
    return {"encoding": encoding, "value": value, "size": body.size_bytes, "sha256": body.sha256_hex()}
