"""Kept so that ``--http app.http2:EchoAutoZttpProtocol`` keeps working; the protocol is ``app.server.http2``."""

from app.server.http2 import EchoAutoZttpProtocol as EchoAutoZttpProtocol
