"""Kept so that ``--http app.http2:EchoAutoZttpProtocol`` keeps working: ``app.server.http2_protocol``."""

from app.server.http2_protocol import EchoAutoZttpProtocol as EchoAutoZttpProtocol
