"""Prometheus metrics with ``prometheus-client``, in a registry of the app's own (one per ``create_app``).

Label children are created once and cached: ``labels()`` per request costs a lock and a dict lookup.
Method labels are bounded: unknown tokens count as ``OTHER`` so clients cannot grow the label set.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

KNOWN_METHODS = frozenset(
    {
        *("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT"),
        *("PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "MKCALENDAR", "REPORT"),
        *("PURGE", "QUERY", "SEARCH"),
    }
)
DURATION_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The server's metrics; ``exposition()`` renders them in the Prometheus text format."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "echo_http_requests", "HTTP requests answered", ["method", "status_class"], registry=self.registry
        )
        self.request_bytes = Counter(
            "echo_http_request_content_bytes", "Request content bytes received", registry=self.registry
        )
        self.response_bytes = Counter(
            "echo_http_response_content_bytes", "Response content bytes sent", registry=self.registry
        )
        self.duration = Histogram(
            "echo_http_request_duration_seconds",
            "Time from request start to response end, in seconds",
            buckets=DURATION_BUCKETS_S,
            registry=self.registry,
        )
        self.in_flight = Gauge("echo_http_requests_in_flight", "HTTP requests in progress", registry=self.registry)
        self.websocket_connections = Counter(
            "echo_websocket_connections", "WebSocket connections accepted", registry=self.registry
        )
        self.websocket_messages = Counter(
            "echo_websocket_messages", "WebSocket messages echoed", ["kind"], registry=self.registry
        )
        self._request_children: dict[tuple[str, int], Counter] = {}

    def observe_request(
        self, method: str, status: int, request_bytes: int, response_bytes: int, duration_s: float
    ) -> None:
        """Count one finished HTTP request; ``status`` 0 means no response was sent."""
        key = (method if method in KNOWN_METHODS else "OTHER", status // 100)
        child = self._request_children.get(key)
        if child is None:
            status_class = f"{key[1]}xx" if key[1] else "none"
            child = self._request_children[key] = self.requests.labels(key[0], status_class)
        child.inc()
        self.request_bytes.inc(request_bytes)
        self.response_bytes.inc(response_bytes)
        self.duration.observe(duration_s)

    def exposition(self) -> bytes:
        """The Prometheus text exposition of every metric (served as ``prometheus_client.CONTENT_TYPE_LATEST``)."""
        return generate_latest(self.registry)
