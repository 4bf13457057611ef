"""Kept so that ``--http app.http2:EchoAutoZttpProtocol`` keeps working: it is what ``--http zttp --http2`` runs."""

from uvicorn.protocols.http.auto_zttp_impl import AutoZttpProtocol as EchoAutoZttpProtocol

__all__ = ["EchoAutoZttpProtocol"]
