"""Bounded body reading: the in-flight budget is given back however reading ends."""

from __future__ import annotations

import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from app.echo.body import InflightBudget, read_body
from app.errors import ContentTooLarge, ServerBusy


def request_receiving(*messages: Message) -> Request:
    """A request whose ``receive`` hands out ``messages`` in turn."""
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0)

    return Request({"type": "http", "method": "POST", "headers": []}, receive)


def part(data: bytes, *, more: bool = True) -> Message:
    return {"type": "http.request", "body": data, "more_body": more}


async def test_a_whole_body_stays_reserved_until_the_caller_releases_it() -> None:
    budget = InflightBudget(100)
    body = await read_body(request_receiving(part(b"abc"), part(b"de", more=False)), 5, 100, budget)
    assert body.joined() == b"abcde"
    assert budget.held_bytes == 5


@pytest.mark.parametrize(
    ("messages", "declared", "budget_bytes", "raised"),
    [
        pytest.param([part(b"abc"), {"type": "http.disconnect"}], 10, 50, ClientDisconnect, id="client-gone"),
        pytest.param([part(b"x" * 60), part(b"x" * 60)], None, 1000, ContentTooLarge, id="chunked-past-ceiling"),
        pytest.param([part(b"x" * 30), part(b"x" * 30)], None, 50, ServerBusy, id="budget-exhausted"),
    ],
)
async def test_the_reservation_is_released_when_reading_fails(
    messages: list[Message], declared: int | None, budget_bytes: int, raised: type[Exception]
) -> None:
    budget = InflightBudget(budget_bytes)
    with pytest.raises(raised):
        await read_body(request_receiving(*messages), declared, 100, budget)
    assert budget.held_bytes == 0


async def test_chunked_content_is_reserved_exactly_and_released_to_zero() -> None:
    budget = InflightBudget(100)
    body = await read_body(request_receiving(part(b"abc"), part(b"de"), part(b"f", more=False)), None, 100, budget)
    assert (body.joined(), body.size_bytes, budget.held_bytes) == (b"abcdef", 6, 6)
    budget.release(body.size_bytes)
    assert budget.held_bytes == 0


async def test_empty_chunked_content_reserves_nothing() -> None:
    budget = InflightBudget(100)
    body = await read_body(request_receiving(part(b"", more=False)), None, 100, budget)
    assert (body.size_bytes, budget.held_bytes) == (0, 0)


@pytest.mark.parametrize("declared", [pytest.param(100, id="declared"), pytest.param(None, id="chunked")])
async def test_content_of_exactly_the_ceiling_and_the_budget_is_read(declared: int | None) -> None:
    budget = InflightBudget(100)
    body = await read_body(request_receiving(part(b"x" * 60), part(b"x" * 40, more=False)), declared, 100, budget)
    assert (body.size_bytes, budget.held_bytes) == (100, 100)


@pytest.mark.parametrize("declared", [pytest.param(101, id="declared"), pytest.param(None, id="chunked")])
async def test_content_past_the_ceiling_is_refused_naming_the_limit(declared: int | None) -> None:
    with pytest.raises(ContentTooLarge) as refused:
        await read_body(
            request_receiving(part(b"x" * 60), part(b"x" * 41, more=False)), declared, 100, InflightBudget(1000)
        )
    assert "exceeds the limit of 100 bytes (ECHO_MAX_BODY_BYTES)" in refused.value.message


def test_the_budget_adds_reservations_up_to_its_limit_inclusive() -> None:
    budget = InflightBudget(10)
    budget.reserve(4)
    budget.reserve(6)
    assert budget.held_bytes == 10
    with pytest.raises(ServerBusy) as refused:
        budget.reserve(1)
    assert "would pass 10 bytes" in refused.value.message
    assert budget.held_bytes == 10
