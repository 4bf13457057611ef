"""Kept so that ``--http app.http2:EchoAutoZttpProtocol`` keeps working: since uvicorn 0.55 it is uvicorn's own
HTTP/1.1-or-HTTP/2 dispatcher, what ``--http zttp --http2`` runs."""

from uvicorn.protocols.http.auto_zttp_impl import AutoZttpProtocol as EchoAutoZttpProtocol

__all__ = ["EchoAutoZttpProtocol"]
