"""The uvicorn names this layer relies on (``tests/unit/server/test_uvicorn_surface.py`` fails when one is gone)."""

#: ``HttpToolsProtocol`` methods extended in ``EchoHttpToolsProtocol``; each override calls ``super()`` but
#: ``eof_received``, whose uvicorn body is empty (ours decides whether a half-closed connection stays open).
HTTPTOOLS_EXTENDED = (
    "connection_made",
    "eof_received",
    "on_message_begin",
    "on_url",
    "on_header",
    "on_headers_complete",
    "on_body",
    "on_message_complete",
    "on_response_complete",
    "connection_lost",
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
    "ws_protocol_class",
    "expect_100_continue",
    "_unset_keepalive_if_required",
    "_should_upgrade",
    "handle_websocket_upgrade",
)
#: Attributes of ``RequestResponseCycle`` read or set (``transport`` is replaced by the coalescing writer).
CYCLE_READ = ("disconnected", "message_event", "more_body", "response_complete", "response_started", "transport")
#: ``WebSocketsSansIOProtocol``: ``conn.send_response`` is wrapped, ``handle_handshake_exception`` replaced;
#: ``data_received`` is extended and ``receive`` replaced (frames passed on one message at a time; ``queue`` and
#: ``read_paused`` as uvicorn's ``receive`` uses them).
WEBSOCKET_READ = (
    "data_received",
    "receive",
    "queue",
    "conn",
    "config",
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
#: ``websockets`` ``ServerProtocol`` (uvicorn's ``conn``): ``recv_frame`` wrapped, ``current_size`` reset on a close.
WEBSOCKETS_CONNECTION_READ = ("recv_frame", "current_size")
#: Module-level names imported from ``uvicorn.protocols.http.httptools_impl``.
HTTPTOOLS_MODULE = ("HttpToolsProtocol", "STATUS_LINE")
#: ``FlowControl`` (``uvicorn.protocols.http.flow_control``), extended by ``BoundedReading``.
FLOW_CONTROL_METHODS = ("pause_reading", "resume_reading", "pause_writing", "resume_writing", "drain")
