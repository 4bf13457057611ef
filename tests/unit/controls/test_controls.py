"""Response controls: each alone, combined, in both forms, and every refusal named."""

from __future__ import annotations

import time
from urllib.parse import quote

import httpx
import pytest

from app.controls.parse import Controls, applied_field, parse_controls
from app.controls.sequences import StatusSequences
from app.errors import InvalidControl
from app.settings import Settings
from tests.conftest import ClientFactory


def parse(query: str = "", headers: list[tuple[str, str]] | None = None, **options: object) -> Controls:
    raw_headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers or []]
    kwargs = {"max_delay_ms": 10_000, "allow_active_content": False, **options}
    return parse_controls(query.encode("latin-1"), raw_headers, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        pytest.param("", [], Controls(), id="none"),
        pytest.param("x=1&echo=2", [("X-Other", "1")], Controls(), id="lookalikes-are-not-controls"),
        pytest.param("echo_status=418", [], Controls(statuses=(418,)), id="status-query"),
        pytest.param("", [("X-Echo-Status", "503")], Controls(statuses=(503,)), id="status-field"),
        pytest.param("echo_status=201", [("X-Echo-Status", "503")], Controls(statuses=(201,)), id="query-wins"),
        pytest.param("echo_delay=0", [], Controls(delay_ms=0), id="delay-zero"),
        pytest.param("echo_delay=10000", [], Controls(delay_ms=10_000), id="delay-max"),
        pytest.param(
            "echo_status=503,503,200&echo_sequence=k1",
            [],
            Controls(statuses=(503, 503, 200), sequence="k1"),
            id="sequence",
        ),
        pytest.param(
            "echo_header=Location:%20/next&echo_header=Retry-After:%205",
            [],
            Controls(headers=(("Location", "/next"), ("Retry-After", "5"))),
            id="headers-query",
        ),
        pytest.param(
            "", [("X-Echo-Header", "X-A: 1"), ("X-Echo-Header", "X-B: 2")],
            Controls(headers=(("X-A", "1"), ("X-B", "2"))), id="headers-fields",
        ),
        pytest.param("echo_body=h%C3%A9", [], Controls(body="hé".encode()), id="body-utf8"),
        pytest.param(
            "echo_body=%7B%7D&echo_content_type=application/json",
            [], Controls(body=b"{}", content_type="application/json"), id="body-with-type",
        ),
        pytest.param("echo_mode=stream", [], Controls(stream=True), id="stream"),
        pytest.param("echo_format=json", [], Controls(format="json"), id="format"),
        pytest.param("", [("X-Echo-Content-Type", "text/csv"), ("X-Echo-Body", "a,b")],
                     Controls(body=b"a,b", content_type="text/csv"), id="content-type-field-form"),
    ],
)  # fmt: skip
def test_valid_controls(query: str, headers: list[tuple[str, str]], expected: Controls) -> None:
    assert parse(query, headers) == expected


@pytest.mark.parametrize(
    ("query", "headers", "message"),
    [
        pytest.param("echo_bogus=1", [], "unknown control 'echo_bogus'", id="unknown-query"),
        pytest.param("ECHO_STATUS=500", [], "did you mean 'echo_status'", id="control-name-in-capitals"),
        pytest.param("Echo_Delay=5", [], "did you mean 'echo_delay'", id="control-name-in-mixed-case"),
        pytest.param("", [("X-Echo-Bogus", "1")], "unknown control 'x-echo-bogus'", id="unknown-field"),
        pytest.param("echo_status=199", [], "'199' is not a final status (accepted: 200-599)", id="status-1xx"),
        pytest.param("echo_status=600", [], "(accepted: 200-599)", id="status-600"),
        pytest.param("echo_status=abc", [], "'abc' is not a final status", id="status-text"),
        pytest.param("echo_status=0200", [], "'0200' is not a final status", id="status-4-digits"),
        pytest.param("echo_status=503,200", [], "needs echo_sequence", id="list-without-key"),
        pytest.param("echo_sequence=k&echo_status=" + ",".join(["200"] * 101), [], "at most 100", id="list-too-long"),
        pytest.param("echo_sequence=a%20b&echo_status=200", [], "echo_sequence='a b' is invalid", id="bad-key"),
        pytest.param("echo_sequence=k", [], "echo_sequence needs echo_status", id="key-without-status"),
        pytest.param("echo_delay=-1", [], "accepted are whole milliseconds 0-10000", id="delay-negative"),
        pytest.param("echo_delay=10001", [], "0-10000", id="delay-over-max"),
        pytest.param("echo_delay=1.5", [], "echo_delay='1.5' is invalid", id="delay-fraction"),
        pytest.param("echo_delay=%C2%B2", [], "echo_delay='²' is invalid", id="delay-unicode-digit"),
        pytest.param("echo_delay=" + "1" * 5000, [], "accepted are whole milliseconds", id="delay-5000-digits"),
        pytest.param("", [("X-Echo-Delay", "\u00c2\u00b2")], "is invalid", id="delay-field-unicode-digit"),  # UTF-8 "²"
        pytest.param("echo_status=%C2%B2%C2%B2%C2%B2", [], "is not a final status", id="status-unicode-digits"),
        pytest.param("echo_status=%D9%A2%D9%A0%D9%A0", [], "is not a final status", id="status-arabic-indic"),
        pytest.param("echo_status=200&echo_status=201", [], "given 2 times", id="repeated"),
        pytest.param("echo_header=NoColon", [], "accepted is 'Name: value'", id="header-no-colon"),
        pytest.param("echo_header=Bad%20Name:%20v", [], "accepted is 'Name: value'", id="header-bad-name"),
        pytest.param("echo_header=X-A:%20a%0D%0AInjected:%201", [], "may not hold CR, LF", id="header-crlf"),
        pytest.param("echo_header=X-A:%20a%00b", [], "may not hold CR, LF, NUL", id="header-nul"),
        pytest.param("echo_header=X-A:%20%E2%82%AC", [], "only characters up to U+00FF", id="header-not-latin1"),
        pytest.param("echo_header=Date:%20x", [], "set by the server", id="date"),
        pytest.param("echo_header=server:%20x", [], "set by the server", id="server"),
        pytest.param("echo_header=Content-Length:%201", [], "Content-Length cannot be set", id="content-length"),
        pytest.param("echo_header=Transfer-Encoding:%20chunked", [], "cannot be set", id="transfer-encoding"),
        pytest.param("echo_header=Connection:%20close", [], "cannot be set", id="connection"),
        pytest.param("echo_header=content-type:%20text/html", [], "cannot be set", id="content-type"),
        pytest.param("echo_header=X-Content-Type-Options:%20x", [], "cannot be set", id="nosniff"),
        pytest.param("echo_header=Set-Cookie:%20a=1", [], "cannot be set", id="set-cookie"),
        pytest.param("echo_header=Access-Control-Allow-Origin:%20*", [], "cannot be set", id="acao"),
        pytest.param("echo_header=Content-Security-Policy:%20x", [], "cannot be set", id="csp"),
        pytest.param("echo_header=Cache-Control:%20public", [], "cannot be set", id="cache-control"),
        pytest.param("&".join(["echo_header=X-A:%201"] * 21), [], "at most 20", id="too-many-headers"),
        pytest.param("echo_body=" + "a" * 65537, [], "at most 65536 bytes", id="body-too-big"),
        pytest.param("echo_body=%FF", [], "not valid UTF-8", id="body-not-utf8"),
        pytest.param(
            "echo_body=x&echo_content_type=text/html", [], "browsers render or run text/html", id="active-html"
        ),
        pytest.param("echo_body=x&echo_content_type=IMAGE/SVG%2Bxml", [], "is refused", id="active-svg"),
        pytest.param("echo_body=x&echo_content_type=text/javascript;x=1", [], "is refused", id="active-js"),
        pytest.param("echo_body=x&echo_content_type=text/xsl", [], "render or run text/xsl", id="active-xsl"),
        pytest.param("echo_body=x&echo_content_type=application/x-javascript", [], "is refused", id="active-x-js"),
        pytest.param("echo_body=x&echo_content_type=text/ecmascript", [], "is refused", id="active-ecmascript"),
        pytest.param("echo_body=x&echo_content_type=application/atom%2Bxml", [], "is refused", id="active-plus-xml"),
        pytest.param("echo_body=x&echo_content_type=multipart/x-mixed-replace", [], "is refused", id="mixed-replace"),
        pytest.param("echo_body=x&echo_content_type=multipart/mixed;boundary=b", [], "is refused", id="multipart"),
        pytest.param("echo_body=x&echo_content_type=text/rdf", [], "render or run text/rdf", id="rdf"),
        pytest.param("echo_body=x&echo_content_type=text/plain;x=,text/html", [], "is invalid", id="comma-list"),
        pytest.param("echo_body=x&echo_content_type=text/plain,%20text/html", [], "is invalid", id="comma-type"),
        pytest.param("echo_body=x&echo_content_type=text/plain;x=%22a,text/html%22", [], "a comma", id="comma-quoted"),
        pytest.param("echo_body=x&echo_content_type=text/plain;%20x", [], "is invalid", id="parameter-shape"),
        pytest.param("echo_body=x&echo_content_type=nonsense", [], "accepted is a media type", id="type-shape"),
        pytest.param("echo_content_type=text/csv", [], "needs echo_body", id="type-without-body"),
        pytest.param("echo_mode=buffered", [], "accepted value is stream", id="mode-other"),
        pytest.param("echo_mode=stream&echo_body=x", [], "cannot be combined", id="stream-with-body"),
        pytest.param("echo_format=xml", [], "accepted values are text, json", id="format-other"),
    ],
)
def test_invalid_controls_are_named(query: str, headers: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(InvalidControl) as refused:
        parse(query, headers)
    assert message in refused.value.message


def test_header_limit_is_inclusive() -> None:
    assert len(parse("&".join(["echo_header=X-A:%201"] * 20)).headers) == 20


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "TEXT/CSV; header=present", 'text/plain; charset=utf-8; note="a b; c"', "application/json"],
)
def test_passive_content_types_are_kept_as_given(content_type: str) -> None:
    query = "echo_body=x&echo_content_type=" + quote(content_type)
    assert parse(query).content_type == content_type


def test_active_content_allowed_by_setting() -> None:
    controls = parse("echo_body=%3Cb%3E&echo_content_type=text/html", allow_active_content=True)
    assert controls.content_type == "text/html"


def test_applied_field_format() -> None:
    controls = Controls(statuses=(302,), delay_ms=500, headers=(("Location", "/x"), ("X-A", "1")))
    assert applied_field(controls.applied(302)) == "status=302; delay=500; header=Location,X-A"


def test_sequences_cycle_per_key_and_drop_the_least_recently_used() -> None:
    sequences = StatusSequences(max_keys=2)
    served = [sequences.next_status("a", (503, 503, 200)) for _ in range(4)]
    assert served == [503, 503, 200, 503]
    assert sequences.next_status("b", (500, 200)) == 500
    assert sequences.next_status("a", (503, 503, 200)) == 503  # "a" goes on: third of its cycle
    assert sequences.next_status("c", (404,)) == 404  # drops "b", the least recently used
    assert len(sequences) == 2
    assert sequences.next_status("b", (500, 200)) == 500  # "b" starts afresh
    assert sequences.next_status("a", (201, 202)) == 201  # a new list restarts a known key


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("echo_body=", Controls(body=b""), id="empty-body-is-a-body"),
        pytest.param("echo_status=599", Controls(statuses=(599,)), id="status-599-inclusive"),
        pytest.param(
            "echo_sequence=k&echo_status=" + ",".join(["200"] * 100),
            Controls(statuses=(200,) * 100, sequence="k"),
            id="100-statuses-inclusive",
        ),
        pytest.param("echo_header=X-A:%20Xenon%20X", Controls(headers=(("X-A", "Xenon X"),)), id="only-blanks-trimmed"),
        pytest.param("echo_header=X-A:%20%C3%BF", Controls(headers=(("X-A", "\u00ff"),)), id="header-u00ff-inclusive"),
        pytest.param("echo_body=" + "a" * 65536, Controls(body=b"a" * 65536), id="body-65536-inclusive"),
    ],
)
def test_controls_at_their_limits_are_accepted(query: str, expected: Controls) -> None:
    assert parse(query) == expected


@pytest.mark.parametrize(
    ("query", "headers", "message"),
    [
        pytest.param(
            "echo_bogus=1",
            [],
            "unknown control 'echo_bogus': accepted controls are status, sequence, delay, header, body, content_type, "
            "mode, format, fault, trailer",
            id="unknown",
        ),
        pytest.param("echo_body=1&echo_body=2", [], "echo_body is given 2 times: give it once", id="repeated"),
        pytest.param("echo_body=%FF", [], "echo_body: the value is not valid UTF-8", id="query-not-utf8"),
        pytest.param("", [("X-Echo-Body", "\xff")], "x-echo-body: the value is not valid UTF-8", id="field-not-utf8"),
        pytest.param(
            "echo_status=503,200",
            [],
            "echo_status with several statuses needs echo_sequence=<key> (1-128 of A-Za-z0-9._-)",
            id="list-without-key",
        ),
        pytest.param(
            "echo_sequence=k",
            [],
            "echo_sequence needs echo_status (for example echo_status=503,503,200)",
            id="key-without-status",
        ),
        pytest.param(
            "echo_body=x&echo_content_type=nonsense",
            [],
            "echo_content_type='nonsense' is invalid: accepted is a media type with optional parameters, "
            "such as text/plain; charset=utf-8",
            id="type-shape",
        ),
        pytest.param(
            "echo_body=x&echo_content_type=text/plain;x=%22a,b%22",
            [],
            "echo_content_type='text/plain;x=\"a,b\"' is refused: a comma (browsers read it as a second media type); "
            "set ECHO_ALLOW_ACTIVE_CONTENT=true to allow it",
            id="comma-quoted",
        ),
        pytest.param(
            "echo_content_type=text/csv",
            [],
            "echo_content_type needs echo_body (it sets the type of that body)",
            id="type-without-body",
        ),
        pytest.param(
            "echo_format=raw&echo_body=x",
            [],
            "echo_format=raw sends the request back as received: it cannot be combined with body",
            id="raw-with-body",
        ),
        pytest.param(
            "echo_mode=stream&echo_format=json",
            [],
            "echo_mode=stream sends the request content back: it cannot be combined with body or format",
            id="stream-with-format",
        ),
        pytest.param(
            "echo_header=X-A:%20v%0B",
            [],
            "echo_header='X-A: v\\x0b': the value may not hold CR, LF, NUL or other control characters",
            id="header-trailing-control-not-trimmed",
        ),
        pytest.param(
            "echo_header=X-Echo-Other:%201",
            [],
            "echo_header='X-Echo-Other: 1': the field X-Echo-Other cannot be set (it changes framing or safety)",
            id="header-x-echo-prefix",
        ),
        pytest.param(
            "echo_header=X-A:%20%C4%80",
            [],
            "echo_header='X-A: \u0100': the value may hold only characters up to U+00FF (Latin-1)",
            id="header-u0100",
        ),
    ],
)
def test_refusals_are_whole_sentences(query: str, headers: list[tuple[str, str]], message: str) -> None:
    # The 400 answer is this message: a client reads it to learn what to change.
    with pytest.raises(InvalidControl) as refused:
        parse(query, headers)
    assert refused.value.message == message


def test_applied_names_the_sequence_and_the_stream_mode() -> None:
    assert applied_field(Controls(statuses=(503, 200), sequence="k1").applied(503)) == "status=503; sequence=k1"
    assert applied_field(Controls(stream=True).applied(None)) == "mode=stream"


# Through the app ------------------------------------------------------------------------------


async def test_status_302_location_and_500ms_delay_in_one_request(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    response = await client.get("/go?echo_status=302&echo_header=Location:%20/there&echo_delay=500")
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert response.headers["location"] == "/there"
    assert response.headers["x-echo-applied"] == "status=302; delay=500; header=Location"
    assert 0.5 <= elapsed < 3
    assert b"TARGET: /go?echo_status=302&echo_header=Location:%20/there&echo_delay=500" in response.content


async def test_json_echo_reports_what_was_applied(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers={"X-Echo-Status": "201", "X-Echo-Format": "json"})
    assert response.status_code == 201
    document = response.json()
    assert document["applied"] == {"status": 201, "format": "json"}
    assert ["x-echo-status", "201"] in document["headers"]  # the request is still shown as received


async def test_sequence_serves_statuses_in_turn(client: httpx.AsyncClient) -> None:
    url = "/retry?echo_status=503,503,200&echo_sequence=retry-test"
    statuses = [(await client.get(url)).status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 503]


@pytest.mark.parametrize("status", [204, 304])
async def test_no_content_statuses_carry_no_content(client: httpx.AsyncClient, status: int) -> None:
    response = await client.post(f"/?echo_status={status}", content=b"data")
    assert response.status_code == status
    assert response.content == b""
    assert "content-length" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_fixed_body_with_type(client: httpx.AsyncClient) -> None:
    response = await client.get("/?echo_body=%7B%22ok%22%3Atrue%7D&echo_content_type=application/json")
    assert response.content == b'{"ok":true}'
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-echo-applied"] == "body=11; content_type=application/json"


async def test_fixed_body_defaults_to_text(client: httpx.AsyncClient) -> None:
    response = await client.head("/?echo_body=hello")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "5"
    assert response.content == b""


async def test_a_control_name_in_capitals_is_a_400_suggesting_the_lowercase_name(client: httpx.AsyncClient) -> None:
    response = await client.get("/x?ECHO_STATUS=500")
    assert response.status_code == 400
    assert "did you mean 'echo_status'" in response.text


async def test_other_parameters_in_capitals_are_echoed_not_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/x?ECHO_SOMETHING=1&Echo=2")
    assert response.status_code == 200
    assert "ECHO_SOMETHING=1" in response.text


async def test_invalid_control_is_a_plain_400_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/?echo_delay=99999")
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "400 echo_delay='99999' is invalid: accepted are whole milliseconds 0-10000\n"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain;x=,text/html",
        "text/plain;%20charset=utf-8,%20text/html",
        "text/plain;x=%22,%22,text/html",
        "text/xsl",
    ],
)
async def test_html_cannot_be_smuggled_into_a_fixed_body(client: httpx.AsyncClient, content_type: str) -> None:
    # Browsers read a Content-Type value as a list and take its last type; XSL runs as a document.
    response = await client.get(f"/x?echo_body=%3Cscript%3Ealert(1)%3C/script%3E&echo_content_type={content_type}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "echo_content_type=" in response.text


async def test_controls_off_echoes_them_like_any_input(make_client: ClientFactory) -> None:
    client = make_client(Settings(controls=False))
    response = await client.get("/?echo_status=500&echo_bogus=1", headers={"X-Echo-Delay": "nonsense"})
    assert response.status_code == 200
    assert b"X-Echo-Delay: nonsense\n" in response.content
    assert "x-echo-applied" not in response.headers


async def test_max_delay_setting_is_the_ceiling(make_client: ClientFactory) -> None:
    client = make_client(Settings(max_delay_ms=100))
    assert (await client.get("/?echo_delay=100")).status_code == 200
    refused = await client.get("/?echo_delay=101")
    assert refused.status_code == 400
    assert "0-100" in refused.text


async def test_stream_mode_in_process(client: httpx.AsyncClient) -> None:
    response = await client.post("/?echo_mode=stream", content=b"\x00\x01raw", headers={"content-type": "image/png"})
    assert response.content == b"\x00\x01raw"
    assert response.headers["content-type"] == "image/png"
    head = await client.head("/?echo_mode=stream")
    assert head.content == b""


async def test_stream_mode_sends_the_header_fields_it_reports_as_applied(client: httpx.AsyncClient) -> None:
    response = await client.post("/?echo_mode=stream&echo_header=X-A:%201&echo_header=X-B:%202", content=b"abc")
    assert response.headers["x-echo-applied"] == "header=X-A,X-B; mode=stream"
    assert (response.headers.get("x-a"), response.headers.get("x-b"), response.content) == ("1", "2", b"abc")


async def test_a_lookalike_query_applies_nothing_and_says_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/?x=echo")
    assert (response.status_code, "x-echo-applied" in response.headers) == (200, False)


async def test_sequences_are_kept_per_key_through_the_app(client: httpx.AsyncClient) -> None:
    served = [
        (await client.get(f"/?echo_status=503,200&echo_sequence={key}")).status_code for key in ("a", "b", "a", "b")
    ]
    assert served == [503, 503, 200, 200]


async def test_the_active_content_setting_reaches_the_controls(make_client: ClientFactory) -> None:
    client = make_client(Settings(allow_active_content=True))
    response = await client.get("/?echo_body=%3Cb%3E&echo_content_type=text/html")
    assert (response.status_code, response.headers["content-type"], response.text) == (200, "text/html", "<b>")
