"""Pure echo rendering: request facts in, the text echo's parts or the JSON echo document out.

No Starlette objects here; ``RequestFacts.from_scope`` reads what the ASGI scope carries.
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from python_multipart.multipart import parse_options_header
from starlette.types import Scope

from app.body import Body
from app.forms import decode_pairs, group_pairs, parse_form
from app.json_content import is_json_media_type, parse_json
from app.wire import WIRE_EXTENSION, WireFacts, names_as_sent

Field = tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What one request carried, as delivered by the server.

    ``headers`` are (name, value) byte pairs in arrival order with duplicates kept, names lowercase
    (ASGI servers lowercase them). ``target`` is the request target as received (RFC 9112 §3.2): the
    raw path, then ``?`` and the raw query when the query is not empty.
    """

    method: str
    target: bytes
    path: str
    query_string: bytes
    http_version: str
    scheme: str
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None
    headers: list[Field]
    body: Body
    received_at_s: float
    wire: WireFacts | None = None

    @classmethod
    def from_scope(cls, scope: Scope, body: Body, received_at_s: float) -> RequestFacts:
        """Collect the facts of an ASGI HTTP ``scope`` (ASGI spec, HTTP connection scope).

        ``received_at_s`` is when the request reached the app, in seconds since the epoch.
        """
        query_string: bytes = scope.get("query_string", b"")
        raw_path: bytes | None = scope.get("raw_path")
        if raw_path is None:  # optional in the ASGI spec: rebuild it from the decoded path
            raw_path = quote(scope["path"], safe="/:@!$&'()*+,;=~-._").encode("ascii")
        target = raw_path + b"?" + query_string if query_string else raw_path
        client = scope.get("client")
        server = scope.get("server")
        return cls(
            method=scope["method"],
            target=target,
            path=scope["path"],
            query_string=query_string,
            http_version=scope.get("http_version", "1.1"),
            scheme=scope.get("scheme", "http"),
            client=None if client is None else (client[0], client[1]),
            server=None if server is None else (server[0], server[1]),
            headers=scope["headers"],  # read only: no copy
            body=body,
            received_at_s=received_at_s,
            wire=scope.get("extensions", {}).get(WIRE_EXTENSION),
        )

    def field_values(self, name: bytes) -> list[bytes]:
        """All values of the field ``name`` (lowercase), in arrival order."""
        return [value for field_name, value in self.headers if field_name == name]


MAX_CACHED_NAME_BYTES = 64


def canonical_name(name: bytes) -> bytes:
    """Title-Case a lowercase field name at each ``-``: ``x-request-id`` → ``X-Request-Id``.

    Names up to ``MAX_CACHED_NAME_BYTES`` come from a cache (common names repeat on every request);
    longer ones are computed each time, so clients cannot fill memory with long distinct names.
    """
    if len(name) > MAX_CACHED_NAME_BYTES:
        return _title_case(name)
    return _cached_title_case(name)


def _title_case(name: bytes) -> bytes:
    return b"-".join(word[:1].upper() + word[1:] for word in name.split(b"-"))


_cached_title_case = functools.lru_cache(maxsize=1024)(_title_case)


NAMES_AS_SENT = b"NAMES: as sent\n"
NAMES_TITLE_CASED = b"NAMES: Title-Case (the original case was not kept)\n"


def text_echo(facts: RequestFacts) -> list[bytes]:
    """The text echo as parts to send in order: the head, then the content chunks untouched.

    Shape (the classic tutorial's, plus ``TARGET`` and ``NAMES``)::

        METHOD: POST\\nTARGET: /p?x=1\\nNAMES: as sent\\nHEADERS:\\nHost: h\\n...\\n\\nBODY:\\n<content bytes>

    Field names are shown as the client sent them when the raw head was kept (``NAMES: as sent``),
    else in canonical Title-Case (``NAMES: Title-Case ...``).
    """
    sent = names_as_sent(facts.wire, facts.headers)
    lines = [b"METHOD: ", facts.method.encode("latin-1"), b"\nTARGET: ", facts.target, b"\n"]
    lines.append(NAMES_TITLE_CASED if sent is None else NAMES_AS_SENT)
    lines.append(b"HEADERS:\n")
    names = sent if sent is not None else [canonical_name(name) for name, _ in facts.headers]
    for name, (_, value) in zip(names, facts.headers, strict=True):
        lines += (name, b": ", value, b"\n")
    lines.append(b"\nBODY:\n")
    return [b"".join(lines), *facts.body.chunks]


def json_echo(
    facts: RequestFacts,
    hostname: str,
    applied: dict[str, Any] | None = None,
    instance: dict[str, str | None] | None = None,
) -> bytes:
    """The JSON echo document, UTF-8 encoded; its fields are listed in the README.

    ``applied`` is what the response controls changed (``{}`` when nothing), ``instance`` the
    Kubernetes pod facts (None outside Kubernetes).
    """
    content = facts.body.joined()
    media_type, params = _content_type(facts)
    parsed_json, json_error = parse_json(content) if is_json_media_type(media_type) else (None, None)
    form, form_error = parse_form(media_type, params, content)
    document = {
        "method": facts.method,
        "target": facts.target.decode("latin-1"),
        "path": facts.path,
        "query_string": facts.query_string.decode("latin-1"),
        "query": group_pairs(decode_pairs(facts.query_string)),
        "http_version": facts.http_version,
        "scheme": facts.scheme,
        "client": None if facts.client is None else {"ip": facts.client[0], "port": facts.client[1]},
        "server": None if facts.server is None else {"host": facts.server[0], "port": facts.server[1]},
        "headers": [[name.decode("latin-1"), value.decode("latin-1")] for name, value in facts.headers],
        "headers_as_sent": _headers_as_sent(facts),
        "raw_head": facts.wire.raw_head.decode("latin-1") if facts.wire and facts.wire.raw_head else None,
        "connection": _connection_document(facts),
        "cookies": cookie_pairs(facts.field_values(b"cookie")),
        "body": {**body_document(facts.body, content), **_framing_document(facts)},
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


def _headers_as_sent(facts: RequestFacts) -> list[list[str]] | None:
    sent = names_as_sent(facts.wire, facts.headers)
    if sent is None:
        return None
    return [
        [name.decode("latin-1"), value.decode("latin-1")] for name, (_, value) in zip(sent, facts.headers, strict=True)
    ]


def _connection_document(facts: RequestFacts) -> dict[str, Any]:
    wire = facts.wire
    return {
        "peer": None if facts.client is None else {"ip": facts.client[0], "port": facts.client[1]},
        "local": None if facts.server is None else {"ip": facts.server[0], "port": facts.server[1]},
        "request_index": wire.request_index if wire else None,
        "pipelined": wire.pipelined if wire else None,
        "tls": wire.tls if wire else None,
    }


def _framing_document(facts: RequestFacts) -> dict[str, Any]:
    lengths = facts.field_values(b"content-length")
    codings = b",".join(facts.field_values(b"transfer-encoding")).lower()
    first_ms, last_ms = facts.wire.body_timing_ms() if facts.wire else (None, None)
    return {
        "declared_length": int(lengths[0]) if lengths and lengths[0].isdigit() else None,
        "chunked": b"chunked" in codings,
        "received_length": facts.body.size_bytes,
        "first_byte_ms": first_ms,
        "last_byte_ms": last_ms,
    }


def rfc3339(epoch_s: float) -> str:
    """Seconds since the epoch as RFC 3339 UTC with microseconds: ``2026-01-02T03:04:05.000006Z``."""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def dump_json(document: Any) -> bytes:
    """Serialise as UTF-8 JSON (RFC 8259), readable non-ASCII where it is valid UTF-8.

    Parsed request JSON may hold lone surrogates (``"\\ud800"``), which UTF-8 cannot encode; such a
    document is written with ``\\u`` escapes instead, which is still valid JSON.
    """
    text = json.dumps(document, ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document, allow_nan=False).encode("ascii")


def cookie_pairs(cookie_fields: list[bytes]) -> list[list[str]]:
    """``Cookie`` fields split into ``[name, value]`` pairs as sent, duplicates kept (RFC 6265 §5.4).

    A segment without ``=`` is reported as a name with an empty value.
    """
    pairs: list[list[str]] = []
    for cookie_field in cookie_fields:
        for segment in cookie_field.decode("latin-1").split(";"):
            segment = segment.strip()
            if segment:
                name, _, value = segment.partition("=")
                pairs.append([name.strip(), value.strip()])
    return pairs


def _content_type(facts: RequestFacts) -> tuple[str, dict[str, str]]:
    values = facts.field_values(b"content-type")
    media_type, params = parse_options_header(values[0] if values else None)
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
