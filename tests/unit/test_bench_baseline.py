"""bench/baseline.py: an earlier revision is served with its own protocol and loop, and the run's other flags."""

from __future__ import annotations

from bench.baseline import own_pairs, without_own
from tests.servers import DOCUMENTED_OPTIONS


def test_the_current_protocol_and_loop_are_left_out() -> None:
    kept = without_own(DOCUMENTED_OPTIONS)
    assert "--http" not in kept
    assert "--loop" not in kept
    assert not [option for option in kept if option.startswith("app.")]
    assert "--no-proxy-headers" in kept


def test_a_revision_without_a_loop_of_its_own_gets_uvicorns_default() -> None:
    old = ("--http", "app.protocol:EchoHttpToolsProtocol", "--no-proxy-headers", "--no-access-log")
    assert own_pairs(old) == ("--http", "app.protocol:EchoHttpToolsProtocol", "--loop", "auto")


def test_a_revision_that_names_its_loop_keeps_it() -> None:
    assert own_pairs(DOCUMENTED_OPTIONS)[2:] == ("--loop", "app.server.event_loop:TlsBoundedLoop")
