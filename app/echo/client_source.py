"""Where the ASGI ``client`` came from: the TCP peer, or a proxy field a server trusted (uvicorn's ``--proxy-headers``
is on by default). An echo says so, and never passes such a value off as the TCP peer."""

from __future__ import annotations

from collections.abc import Sequence

CLIENT_SOURCES = ("tcp", "x-forwarded-for", "forwarded", "unknown")


def client_source(
    client: tuple[str, int] | None, peer: tuple[str, int] | None, headers: Sequence[tuple[bytes, bytes]]
) -> str:
    """One of ``CLIENT_SOURCES`` for ``client``, given the TCP ``peer`` (None when unknown) and the request's fields
    (names lowercase). Without a peer and without proxy fields it is ``tcp``: servers replace it only from those."""
    if client is None:
        return "unknown"
    if peer is not None and client[0] == peer[0] and client[1] == peer[1]:
        return "tcp"
    forwarded_for = [value for name, value in headers if name == b"x-forwarded-for"]
    forwarded = [value for name, value in headers if name == b"forwarded"]
    if peer is None and not forwarded_for and not forwarded:
        return "tcp"
    address = client[0].encode("latin-1", "replace")
    if any(address == element.strip() for value in forwarded_for for element in value.split(b",")):
        return "x-forwarded-for"
    if address in forwarded_nodes(forwarded):
        return "forwarded"
    return "unknown"


def forwarded_nodes(values: Sequence[bytes]) -> set[bytes]:
    """The addresses named by ``for=`` in ``Forwarded`` field values (RFC 7239 §4, §6), ports and brackets off."""
    nodes: set[bytes] = set()
    for value in values:
        for element in value.split(b","):
            for pair in element.split(b";"):
                name, equals, node = pair.strip().partition(b"=")
                if not equals or name.strip().lower() != b"for":
                    continue
                node = node.strip().strip(b'"')
                if node.startswith(b"["):
                    node = node[1:].partition(b"]")[0]  # [IPv6]:port
                elif node.count(b":") == 1:
                    node = node.partition(b":")[0]  # IPv4:port
                nodes.add(node)
    return nodes
