"""The uvicorn names this layer relies on (``tests/unit/server/test_uvicorn_surface.py`` fails when one is gone)."""

#: ``HttpToolsProtocol`` methods extended in ``EchoHttpToolsProtocol``; each override calls ``super()`` but
#: ``eof_received``, whose uvicorn body is empty (ours decides whether a half-closed connection stays open), and
#: ``shutdown`` before ``connection_made`` (a TLS handshake pending: uvicorn's would read a transport not yet set).
HTTPTOOLS_EXTENDED = (
    "connection_made",
    "shutdown",
    "eof_received",
    "on_message_begin",
    "on_url",
    "on_header",
    "on_headers_complete",
    "on_body",
    "on_message_complete",
    "on_response_complete",
    "connection_lost",
    "_start_asgi_task",  # where the running request changes: ``ServerActions.cycle`` follows it
)
#: Replaced, not extended: uvicorn's answers a parser error with a bare 400 and loses an ignored upgrade.
HTTPTOOLS_REPLACED = ("data_received",)
#: Attributes and helpers of ``HttpToolsProtocol`` read or called (all set by the time a head is parsed).
HTTPTOOLS_READ = (
    "parser",
    "cycle",
    "pipeline",
    "headers",
    "url",
    "scope",
    "transport",
    "loop",
    "flow",
    "server_state",
    "logger",
    "client",
    "config",
    "connections",
    "ws_protocol_class",
    "expect_100_continue",
    "_unset_keepalive_if_required",
    "_should_upgrade",
    "handle_websocket_upgrade",
)
#: Attributes of ``RequestResponseCycle`` read or set (``transport`` is replaced by the coalescing writer, and by
#: ``app.server.actions`` for a trailer section, which relies on the last chunk being written alone as ``0\r\n\r\n``).
CYCLE_READ = (
    *("chunked_encoding", "disconnected", "message_event", "more_body", "response_complete", "response_started"),
    "transport",
)
#: ``WebSocketsSansIOProtocol``: ``conn.send_response`` is wrapped, ``handle_handshake_exception`` replaced,
#: ``shutdown`` extended (it must close the transport for a TLS close to be cut); ``data_received`` is extended and
#: ``receive`` replaced (frames passed on in runs, held for the app; ``queue`` and ``read_paused`` as uvicorn's
#: ``receive`` uses them; ``conn.extensions``: the negotiated deflate).
WEBSOCKET_READ = (
    "data_received",
    "receive",
    "queue",
    "conn",
    "config",
    "shutdown",
    "loop",
    "client",
    "transport",
    "writable",
    "read_paused",
    "curr_msg_data_type",
    "handle_handshake_exception",
    "handle_parser_exception",
    "handle_text",
    "handle_cont",
    "handshake_complete",
    "close_sent",
    "pause_writing",
    "resume_writing",
)
#: ``Config``: ``is_ssl`` is read (a TLS connection is counted from the accept); ``loop`` takes ``module:attr``,
#: which ``get_loop_factory`` imports and calls for the loop (``UVICORN_LOOP`` names ``TlsBoundedLoop``).
#: ``Server.shutdown`` calls ``shutdown()`` on every protocol in ``ServerState.connections``, connected or not.
CONFIG_READ = ("is_ssl", "loop", "get_loop_factory")
#: ``websockets`` ``ServerProtocol`` (uvicorn's ``conn``): ``recv_frame`` wrapped, ``current_size`` reset on a close.
WEBSOCKETS_CONNECTION_READ = ("recv_frame", "current_size")
#: Module-level names imported from ``uvicorn.protocols.http.httptools_impl``.
HTTPTOOLS_MODULE = ("HttpToolsProtocol", "RequestResponseCycle", "STATUS_LINE")
#: ``FlowControl`` (``uvicorn.protocols.http.flow_control``), extended by ``BoundedReading``.
FLOW_CONTROL_METHODS = ("pause_reading", "resume_reading", "pause_writing", "resume_writing", "drain")

#: ``ZttpH2Protocol`` methods extended in ``app.server.http2_protocol.EchoH2Protocol``; each override calls ``super()``.
ZTTP_H2_EXTENDED = (
    "connection_made",
    "data_received",
    "events",
    "handle_request",
    "on_response_complete",
    "connection_lost",
)
#: Attributes and helpers of ``ZttpH2Protocol`` read or called (set once the connection is made).
ZTTP_H2_READ = ("conn", "cycles", "transport", "flow", "loop", "logger", "client", "flush")
#: Attributes of the HTTP/2 ``RequestResponseCycle`` read or set; ``send`` is wrapped per cycle before its task runs.
ZTTP_H2_CYCLE_READ = ("send", "stream", "disconnected", "response_complete", "message_event")
#: Module-level names imported from ``uvicorn.protocols.http.zttp_h2_impl`` (and ``HIGH_WATER_LIMIT`` from
#: ``flow_control``, ``ZttpProtocol`` from ``zttp_impl``, ``AutoZttpProtocol`` from ``auto_zttp_impl``).
ZTTP_H2_MODULE = ("ZttpH2Protocol", "RequestResponseCycle")
#: ``AutoZttpProtocol._switch`` is replaced (it names uvicorn's own classes); the attributes it reads.
AUTO_ZTTP_REPLACED = ("_switch",)
AUTO_ZTTP_READ = ("config", "server_state", "app_state", "loop", "transport")
#: zttp's HTTP/2 send surface used: ``Stream.pending_bytes`` and ``Stream.reset``, ``H2Connection.close``.
ZTTP_STREAM_READ = ("pending_bytes", "reset", "stream_id")

#: ``uvicorn._types``, for annotations only.
UVICORN_TYPES = ("ASGI3Application",)
