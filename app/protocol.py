"""Kept so that ``--http app.protocol:EchoHttpToolsProtocol`` keeps working; the protocol is ``app.server.protocol``."""

from app.server.protocol import EchoHttpToolsProtocol as EchoHttpToolsProtocol
