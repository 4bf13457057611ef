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
