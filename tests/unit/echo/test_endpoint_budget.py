"""The endpoint and the in-flight budget: content and JSON parsing held while the echo is built, then given back."""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import Message, Receive, Scope, Send

from app.echo.body import Body, InflightBudget
from app.echo.endpoints import EchoEndpoint
from app.echo.json_content import parse_memory_bytes
from app.echo.render import render_bytes
from app.settings import Settings
from tests.conftest import BASE_URL, ClientFactory

CONTENT = b"[{},{}]"
PARSE_BYTES = parse_memory_bytes([CONTENT])  # 638
RENDER_BYTES = render_bytes(b"application/json", Body((CONTENT,), len(CONTENT)))
JSON_HEADERS = {"accept": "application/json", "content-type": "application/json"}


def recording(budget_bytes: int) -> tuple[httpx.AsyncClient, InflightBudget, list[int]]:
    """A client for the bare endpoint on a budget of ``budget_bytes``, and the bytes held at each message sent."""
    budget = InflightBudget(budget_bytes)
    endpoint = EchoEndpoint(Settings(), budget=budget)
    held: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_recording(message: Message) -> None:
            held.append(budget.held_bytes)
            await send(message)

        await endpoint(scope, receive, send_recording)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL), budget, held


async def test_json_parsing_is_held_in_the_budget_while_the_echo_is_sent() -> None:
    client, budget, held = recording(10_000)
    async with client:
        document = (await client.post("/", content=CONTENT, headers=JSON_HEADERS)).json()
    assert (document["json"], document["json_error"]) == ([{}, {}], None)
    assert held[0] == len(CONTENT) + RENDER_BYTES + PARSE_BYTES
    assert budget.held_bytes == 0


async def test_a_text_echo_or_a_fixed_body_holds_only_the_content() -> None:
    client, budget, held = recording(10_000)
    async with client:
        await client.post("/", content=CONTENT, headers={"content-type": "application/json"})
        await client.post("/?echo_body=x", content=CONTENT, headers=JSON_HEADERS)
    assert held[0] == held[-1] == len(CONTENT)
    assert budget.held_bytes == 0


async def test_json_past_the_free_budget_is_echoed_unparsed_with_the_reason() -> None:
    client, budget, held = recording(len(CONTENT) + RENDER_BYTES + PARSE_BYTES - 1)
    async with client:
        response = await client.post("/?echo_status=201", content=CONTENT, headers=JSON_HEADERS)
    document = response.json()
    assert response.status_code == 201
    assert document["json"] is None
    assert (
        document["json_error"]
        == "not parsed: parsing would hold about 1 MiB, more than ECHO_MAX_INFLIGHT_BYTES has free"
    )
    assert document["applied"] == {"status": 201}
    assert held[0] == len(CONTENT) + RENDER_BYTES
    assert budget.held_bytes == 0


async def test_a_large_json_echo_built_off_the_loop_keeps_the_reason_and_the_controls() -> None:
    content = b"[" + b"1," * 40_000 + b"1]"  # past THREAD_JSON_BYTES (64 KiB)
    rendering = render_bytes(b"application/json", Body((content,), len(content)))
    client, budget, _ = recording(len(content) + rendering + 1000)
    async with client:
        response = await client.post("/?echo_status=202", content=content, headers=JSON_HEADERS)
    document = response.json()
    assert (response.status_code, document["applied"]) == (202, {"status": 202})
    assert document["json_error"].startswith("not parsed: parsing would hold about 3 MiB")
    assert budget.held_bytes == 0


async def test_content_past_the_settings_in_flight_budget_gets_503(make_client: ClientFactory) -> None:
    client = make_client(Settings(max_inflight_bytes=100, max_body_bytes=1000))
    response = await client.post("/", content=b"x" * 101)
    assert response.status_code == 503
    assert "would pass 100 bytes (ECHO_MAX_INFLIGHT_BYTES)" in response.text
    assert (await client.post("/", content=b"x" * 100)).status_code == 200


async def test_stream_mode_keeps_length_head_delay_and_status(client: httpx.AsyncClient) -> None:
    query = "/?echo_mode=stream&echo_status=201&echo_delay=1"
    response = await asyncio.wait_for(client.post(query, content=b"abc"), 10)
    assert (response.status_code, response.content) == (201, b"abc")
    assert response.headers["content-length"] == "3"
    head = await asyncio.wait_for(client.request("HEAD", query, content=b"abc"), 10)
    assert (head.status_code, head.headers["content-length"], head.content) == (201, "3", b"")
