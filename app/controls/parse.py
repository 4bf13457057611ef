"""Response controls: ``echo_<name>`` query parameters (which win) and ``X-Echo-<Name>`` fields, validated; a
refusal is an ``InvalidControl`` (400) naming the control, the value and what is accepted: nothing is clamped."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from app.controls.active_content import is_active_content_type, media_type_essence
from app.controls.media_type import is_media_type
from app.controls.negotiation import EchoFormat, format_from_control
from app.errors import InvalidControl

QUERY_PREFIX = "echo_"
FIELD_PREFIX = b"x-echo-"
_MAY_HOLD_CONTROLS = re.compile(rb"echo|%", re.IGNORECASE)  # a parameter name (any case) or an escape
NAMES = ("status", "sequence", "delay", "header", "body", "content_type", "mode", "format", "fault", "trailer")
REPEATABLE = frozenset({"header", "trailer"})
MAX_STATUSES = 100
MAX_HEADERS = 20
MAX_TRAILERS = 20
MAX_TRUNCATE_BYTES = 1024**3
#: The controls only the server can carry out (``app.server.actions``).
NEEDS_SERVER_ACTIONS = ("fault", "trailer")
MAX_BODY_BYTES = 64 * 1024
NO_CONTENT_STATUSES = frozenset({204, 304})

# RFC 9110 §5.6.2 token; field values may hold no control character but HTAB (§5.5).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SEQUENCE_KEY = re.compile(r"[A-Za-z0-9._-]{1,128}")

#: Singleton fields uvicorn adds to every response (RFC 9110 §6.6.1, §10.2.4): a control's would be a duplicate.
SERVER_FIELDS = frozenset({"date", "server"})
#: Fields a control may not set: they change framing, or the safety fields every response carries.
FORBIDDEN_FIELDS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "trailer",
        "te",
        "content-type",
        "x-content-type-options",
        "set-cookie",
        "content-security-policy",
        "cache-control",
        "x-echo-applied",
        "x-request-id",
    }
)
FORBIDDEN_FIELD_PREFIXES = ("access-control-",)
#: Never in a trailer section (RFC 9110 §6.5.1): framing, routing, authentication, how to process the content.
FORBIDDEN_TRAILER_FIELDS = FORBIDDEN_FIELDS | {
    *("host", "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate"),
    *("content-encoding", "content-range", "content-location", "expect", "max-forwards", "location", "vary"),
}
Fault = Literal["reset", "close", "truncate"]


@dataclass(frozen=True, slots=True)
class Controls:
    """The controls one request gave, validated (``Controls()`` changes nothing). ``statuses``: one final status, or
    with ``sequence`` the list served in turn; ``headers``: pairs added to the response; ``body``: UTF-8."""

    statuses: tuple[int, ...] = ()
    sequence: str | None = None
    delay_ms: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str | None = None
    stream: bool = False
    format: EchoFormat | None = None
    fault: Fault | None = None
    truncate_after_bytes: int = 0  # for fault "truncate": the content bytes sent before the connection closes
    trailers: tuple[tuple[str, str], ...] = ()

    def applied(self, status: int | None) -> dict[str, Any]:
        """What was applied, for the JSON echo's ``applied`` object; ``status`` is the one served."""
        applied: dict[str, Any] = {}
        if status is not None and self.statuses:
            applied["status"] = status
        if self.sequence is not None:
            applied["sequence"] = self.sequence
        if self.delay_ms:
            applied["delay"] = self.delay_ms
        if self.headers:
            applied["header"] = [name for name, _ in self.headers]
        if self.body is not None:
            applied["body"] = len(self.body)
        if self.content_type is not None:
            applied["content_type"] = self.content_type
        if self.stream:
            applied["mode"] = "stream"
        if self.format is not None:
            applied["format"] = self.format
        if self.fault is not None:
            applied["fault"] = f"truncate:{self.truncate_after_bytes}" if self.fault == "truncate" else self.fault
        if self.trailers:
            applied["trailer"] = [name for name, _ in self.trailers]
        return applied


def applied_field(applied: dict[str, Any]) -> str:
    """``X-Echo-Applied`` value: ``status=302; delay=500; header=Location,Retry-After``."""
    return "; ".join(
        f"{name}={','.join(value) if isinstance(value, list) else value}" for name, value in applied.items()
    )


def may_hold_controls(query_string: bytes) -> bool:
    """Cheap pre-check: could this query hold an ``echo_*`` parameter at all?"""
    return _MAY_HOLD_CONTROLS.search(query_string) is not None


def parse_controls(
    query_string: bytes, headers: list[tuple[bytes, bytes]], *, max_delay_ms: int, allow_active_content: bool
) -> Controls:
    """Collect and validate the controls of one request. Raises ``InvalidControl`` for an unknown control, a value
    out of range, a control given twice (``header`` excepted) or controls that do not combine."""
    raw = _raw_values(query_string, headers)
    if not raw:
        return Controls()
    single = {name: _single(name, values) for name, values in raw.items() if name not in REPEATABLE}
    if len(raw.get("header", ())) > MAX_HEADERS:
        raise InvalidControl(f"echo_header is given {len(raw['header'])} times: at most {MAX_HEADERS}")
    if len(raw.get("trailer", ())) > MAX_TRAILERS:
        raise InvalidControl(f"echo_trailer is given {len(raw['trailer'])} times: at most {MAX_TRAILERS}")
    statuses = _statuses(single["status"]) if "status" in single else ()
    sequence = _sequence(single.get("sequence"), statuses)
    content_type = single.get("content_type")
    body = single.get("body")
    mode = single.get("mode")
    fault, truncate_after_bytes = _fault(single["fault"]) if "fault" in single else (None, 0)
    controls = Controls(
        statuses=statuses,
        sequence=sequence,
        delay_ms=_delay(single["delay"], max_delay_ms) if "delay" in single else 0,
        headers=tuple(_header(value) for value in raw.get("header", [])),
        body=_body(body) if body is not None else None,
        content_type=_content_type(content_type, allow_active_content) if content_type is not None else None,
        stream=_mode(mode) if mode is not None else False,
        format=format_from_control(single["format"]) if "format" in single else None,
        fault=fault,
        truncate_after_bytes=truncate_after_bytes,
        trailers=tuple(_trailer(value) for value in raw.get("trailer", [])),
    )
    _check_combinations(controls)
    return controls


def _raw_values(query_string: bytes, headers: list[tuple[bytes, bytes]]) -> dict[str, list[str]]:
    from_query: dict[str, list[str]] = {}
    if query_string:
        for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
            if name.startswith(QUERY_PREFIX):
                from_query.setdefault(_known(name[len(QUERY_PREFIX) :], name), []).append(_utf8(name, value))
            elif name[: len(QUERY_PREFIX)].lower() == QUERY_PREFIX and name[len(QUERY_PREFIX) :].lower() in NAMES:
                raise InvalidControl(f"unknown control {name!r}: did you mean {name.lower()!r}? Names are lowercase")
    from_fields: dict[str, list[str]] = {}
    for field_name, field_value in headers:
        if field_name.startswith(FIELD_PREFIX):
            label = field_name.decode("latin-1")
            name = _known(label[len(FIELD_PREFIX) :].replace("-", "_"), label)
            from_fields.setdefault(name, []).append(_utf8(label, field_value.decode("latin-1")))
    return {**from_fields, **from_query}  # the query form wins


def _known(name: str, given_as: str) -> str:
    if name not in NAMES:
        accepted = ", ".join(NAMES)
        raise InvalidControl(f"unknown control {given_as!r}: accepted controls are {accepted}")
    return name


def _utf8(name: str, octets: str) -> str:
    try:
        return octets.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidControl(f"{name}: the value is not valid UTF-8") from None


def _single(name: str, values: list[str]) -> str:
    if len(values) > 1:
        raise InvalidControl(f"echo_{name} is given {len(values)} times: give it once")
    return values[0]


def _statuses(value: str) -> tuple[int, ...]:
    items = value.split(",")
    if len(items) > MAX_STATUSES:
        raise InvalidControl(f"echo_status has {len(items)} entries: at most {MAX_STATUSES}")
    statuses = []
    for item in items:
        item = item.strip()
        if not (_is_decimal(item) and len(item) == 3 and 200 <= int(item) <= 599):
            raise InvalidControl(f"echo_status={value!r}: {item!r} is not a final status (accepted: 200-599)")
        statuses.append(int(item))
    return tuple(statuses)


def _sequence(value: str | None, statuses: tuple[int, ...]) -> str | None:
    if value is None:
        if len(statuses) > 1:
            raise InvalidControl("echo_status with several statuses needs echo_sequence=<key> (1-128 of A-Za-z0-9._-)")
        return None
    if not _SEQUENCE_KEY.fullmatch(value):
        raise InvalidControl(f"echo_sequence={value!r} is invalid: accepted are 1-128 characters of A-Za-z0-9._-")
    if not statuses:
        raise InvalidControl("echo_sequence needs echo_status (for example echo_status=503,503,200)")
    return value


def _is_decimal(value: str) -> bool:
    # ASCII digits only: str.isdigit() also takes "²" and other Unicode digits, which int() refuses.
    return value.isascii() and value.isdigit()


def _delay(value: str, max_delay_ms: int) -> int:
    if not (_is_decimal(value) and len(value) <= len(str(max_delay_ms))) or int(value) > max_delay_ms:
        raise InvalidControl(f"echo_delay={value!r} is invalid: accepted are whole milliseconds 0-{max_delay_ms}")
    return int(value)


def _header(value: str, control: str = "echo_header", forbidden: frozenset[str] = FORBIDDEN_FIELDS) -> tuple[str, str]:
    name, colon, field_value = value.partition(":")
    name, field_value = name.strip(), field_value.strip(" \t")
    if not colon or not _TOKEN.fullmatch(name):
        raise InvalidControl(f"{control}={value!r} is invalid: accepted is 'Name: value' with a token name")
    lowered = name.lower()
    if lowered in forbidden or lowered.startswith(FORBIDDEN_FIELD_PREFIXES) or lowered.startswith("x-echo-"):
        raise InvalidControl(f"{control}={value!r}: the field {name} cannot be set (it changes framing or safety)")
    if lowered in SERVER_FIELDS:
        raise InvalidControl(
            f"{control}={value!r}: the field {name} is set by the server; a second one would make it ambiguous"
        )
    if _CONTROL_CHARACTER.search(field_value):
        raise InvalidControl(f"{control}={value!r}: the value may not hold CR, LF, NUL or other control characters")
    if not _is_latin1(field_value):
        # Field values are octets (RFC 9110 §5.5); characters past U+00FF have no one-octet form.
        raise InvalidControl(f"{control}={value!r}: the value may hold only characters up to U+00FF (Latin-1)")
    return name, field_value


def _trailer(value: str) -> tuple[str, str]:
    return _header(value, "echo_trailer", FORBIDDEN_TRAILER_FIELDS)


def _fault(value: str) -> tuple[Fault, int]:
    if value in ("reset", "close"):
        return value, 0  # type: ignore[return-value]  # narrowed by the test above
    kind, colon, after = value.partition(":")
    if kind == "truncate" and colon and _is_decimal(after) and len(after) <= 10 and int(after) <= MAX_TRUNCATE_BYTES:
        return "truncate", int(after)
    raise InvalidControl(
        f"echo_fault={value!r} is invalid: accepted are reset, close and truncate:<bytes> "
        f"(whole bytes 0-{MAX_TRUNCATE_BYTES})"
    )


def _is_latin1(text: str) -> bool:
    return all(ord(character) < 256 for character in text)


def _body(value: str) -> bytes:
    encoded = value.encode("utf-8")
    if len(encoded) > MAX_BODY_BYTES:
        raise InvalidControl(f"echo_body is {len(encoded)} bytes: at most {MAX_BODY_BYTES} bytes")
    return encoded


def _content_type(value: str, allow_active_content: bool) -> str:
    value = value.strip()
    if not is_media_type(value):
        raise InvalidControl(
            f"echo_content_type={value!r} is invalid: accepted is a media type with optional parameters, "
            "such as text/plain; charset=utf-8"
        )
    if is_active_content_type(value) and not allow_active_content:
        # Commas can only be in a quoted parameter value here; browsers still read one as a list separator.
        what = (
            "a comma (browsers read it as a second media type)"
            if "," in value
            else f"browsers render or run {media_type_essence(value)}"
        )
        raise InvalidControl(
            f"echo_content_type={value!r} is refused: {what}; set ECHO_ALLOW_ACTIVE_CONTENT=true to allow it"
        )
    return value


def _mode(value: str) -> bool:
    if value != "stream":
        raise InvalidControl(f"echo_mode={value!r} is invalid: accepted value is stream")
    return True


def _check_combinations(controls: Controls) -> None:
    if controls.content_type is not None and controls.body is None:
        raise InvalidControl("echo_content_type needs echo_body (it sets the type of that body)")
    if controls.format == "raw" and controls.body is not None:
        raise InvalidControl("echo_format=raw sends the request back as received: it cannot be combined with body")
    if controls.stream and (controls.body is not None or controls.format is not None):
        raise InvalidControl(
            "echo_mode=stream sends the request content back: it cannot be combined with body or format"
        )
    if controls.stream and (controls.fault is not None or controls.trailers):
        raise InvalidControl("echo_mode=stream cannot be combined with fault or trailer")
    if controls.trailers and controls.fault == "truncate":
        raise InvalidControl(
            "echo_fault=truncate declares the full length, echo_trailer needs a chunked response: give one of them"
        )
    if controls.trailers and NO_CONTENT_STATUSES.intersection(controls.statuses):
        raise InvalidControl("echo_trailer needs a response with content: not with status 204 or 304")
