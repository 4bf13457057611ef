"""echo_fault and echo_trailer: parsed and validated, reported in applied, refused where the server cannot act."""

from __future__ import annotations

import httpx
import pytest

from app.controls.parse import MAX_TRUNCATE_BYTES, Controls
from app.errors import InvalidControl
from tests.unit.controls.test_controls import parse


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        pytest.param("echo_fault=reset", [], Controls(fault="reset"), id="reset"),
        pytest.param("echo_fault=close", [], Controls(fault="close"), id="close"),
        pytest.param("", [("X-Echo-Fault", "close")], Controls(fault="close"), id="close-field"),
        pytest.param("echo_fault=truncate:0", [], Controls(fault="truncate"), id="truncate-zero"),
        pytest.param(
            "echo_fault=truncate:10", [], Controls(fault="truncate", truncate_after_bytes=10), id="truncate-10"
        ),
        pytest.param(
            f"echo_fault=truncate:{MAX_TRUNCATE_BYTES}", [],
            Controls(fault="truncate", truncate_after_bytes=MAX_TRUNCATE_BYTES), id="truncate-ceiling",
        ),
        pytest.param(
            "echo_trailer=X-Checksum:%20abc&echo_trailer=X-B:2", [],
            Controls(trailers=(("X-Checksum", "abc"), ("X-B", "2"))), id="trailers",
        ),
        pytest.param(
            "", [("X-Echo-Trailer", "X-A: 1"), ("X-Echo-Trailer", "X-A: 2")],
            Controls(trailers=(("X-A", "1"), ("X-A", "2"))), id="trailers-field-duplicates-kept",
        ),
        pytest.param(
            "echo_fault=close&echo_delay=50&echo_status=503", [],
            Controls(fault="close", delay_ms=50, statuses=(503,)), id="fault-with-delay-and-status",
        ),
    ],
)  # fmt: skip
def test_valid_fault_and_trailer_controls(query: str, headers: list[tuple[str, str]], expected: Controls) -> None:
    assert parse(query, headers) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param("echo_fault=explode", "echo_fault='explode' is invalid: accepted are reset, close", id="unknown"),
        pytest.param("echo_fault=RESET", "echo_fault='RESET' is invalid", id="case-matters"),
        pytest.param("echo_fault=truncate", "truncate:<bytes>", id="truncate-without-bytes"),
        pytest.param("echo_fault=truncate:", "truncate:<bytes>", id="truncate-empty"),
        pytest.param("echo_fault=truncate:-1", "whole bytes 0-1073741824", id="truncate-negative"),
        pytest.param("echo_fault=truncate:1.5", "whole bytes", id="truncate-fraction"),
        pytest.param("echo_fault=truncate:%C2%B2", "whole bytes", id="truncate-unicode-digit"),
        pytest.param(f"echo_fault=truncate:{MAX_TRUNCATE_BYTES + 1}", "whole bytes", id="truncate-over-ceiling"),
        pytest.param("echo_fault=truncate:" + "9" * 5000, "whole bytes", id="truncate-huge"),
        pytest.param("echo_fault=reset&echo_fault=close", "echo_fault is given 2 times", id="fault-twice"),
        pytest.param("echo_fault=reset&echo_mode=stream", "cannot be combined with fault or trailer", id="stream"),
        pytest.param("echo_trailer=X-A:1&echo_mode=stream", "cannot be combined with fault", id="stream-trailer"),
        pytest.param("echo_trailer=X-A:1&echo_fault=truncate:3", "give one of them", id="trailer-truncate"),
        pytest.param("echo_trailer=X-A:1&echo_status=204", "not with status 204 or 304", id="trailer-204"),
        pytest.param("echo_trailer=novalue", "echo_trailer='novalue' is invalid", id="trailer-no-colon"),
        pytest.param("echo_trailer=Content-Length:%203", "the field Content-Length cannot be set", id="framing"),
        pytest.param("echo_trailer=Host:%20x", "the field Host cannot be set", id="routing"),
        pytest.param("echo_trailer=Authorization:%20x", "cannot be set", id="authentication"),
        pytest.param("echo_trailer=Content-Encoding:%20gzip", "cannot be set", id="content-processing"),
        pytest.param("echo_trailer=X-Echo-Status:%20500", "cannot be set", id="own-controls"),
        pytest.param("echo_trailer=X-A:%20a%0Db", "may not hold CR, LF", id="trailer-cr"),
        pytest.param("echo_trailer=X-A:%20%E2%9C%93", "up to U+00FF", id="trailer-not-latin1"),
        pytest.param("&".join(["echo_trailer=X-A:1"] * 21), "echo_trailer is given 21 times: at most 20", id="21"),
    ],
)
def test_invalid_fault_and_trailer_controls_are_named(query: str, message: str) -> None:
    with pytest.raises(InvalidControl) as raised:
        parse(query)
    assert message in raised.value.message


def test_twenty_trailers_are_accepted() -> None:
    assert len(parse("&".join(["echo_trailer=X-A:1"] * 20)).trailers) == 20


@pytest.mark.parametrize(
    ("query", "applied"),
    [
        pytest.param("echo_fault=truncate:7", {"fault": "truncate:7"}, id="truncate"),
        pytest.param("echo_fault=reset", {"fault": "reset"}, id="reset"),
        pytest.param("echo_trailer=X-A:1&echo_trailer=X-B:2", {"trailer": ["X-A", "X-B"]}, id="trailers"),
    ],
)
def test_applied_reports_faults_and_trailers(query: str, applied: dict[str, object]) -> None:
    assert parse(query).applied(None) == applied


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("echo_fault=reset", id="reset"),
        pytest.param("echo_fault=close", id="close"),
        pytest.param("echo_fault=truncate:3", id="truncate"),
        pytest.param("echo_trailer=X-A:%201", id="trailer"),
    ],
)
async def test_without_the_servers_actions_the_control_gets_a_400_naming_the_flag(
    client: httpx.AsyncClient, query: str
) -> None:
    # In process there is no server protocol, as under plain uvicorn, h11 or HTTP/2.
    response = await client.post(f"/x?{query}", content=b"abc")
    assert response.status_code == 400
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.text.startswith(f"400 {query.partition('=')[0]} needs the server's cooperation")
    assert "--http app.server.protocol:EchoHttpToolsProtocol" in response.text
