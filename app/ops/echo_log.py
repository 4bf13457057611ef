"""``ECHO_LOG_ECHO=true``: each request's full echo as one JSON log record, ``ECHO_LOG_REDACT`` fields redacted."""

from __future__ import annotations

import json

from app.echo.render import RequestFacts, body_document
from app.ops.access_log import LogSink

REDACTED = "[redacted]"


class EchoLog:
    """Writes ``{"echo": {...}}`` records: method, target, fields (redacted), body."""

    def __init__(self, redact: tuple[str, ...], sink: LogSink) -> None:
        self.redact = frozenset(name.encode("latin-1") for name in redact)
        self.sink = sink

    def write(self, facts: RequestFacts, request_id: str = "-") -> None:
        """Write the record for one request (one line: ``json.dumps`` escapes every control character)."""
        fields = [
            [name.decode("latin-1"), REDACTED if name in self.redact else value.decode("latin-1")]
            for name, value in facts.headers
        ]
        record = {
            "echo": {
                "request_id": request_id,
                "method": facts.method,
                "target": facts.target.decode("latin-1"),
                "headers": fields,
                "body": body_document(facts.body),
            }
        }
        self.sink(json.dumps(record))
