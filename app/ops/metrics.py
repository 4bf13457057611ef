"""Prometheus metrics: plain integers, per process and touched only from its event loop, that a custom collector
turns into metric families at scrape time. Unknown methods count as ``OTHER``, so labels stay bounded."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

KNOWN_METHODS = frozenset(
    {
        *("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT"),
        *("PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "MKCALENDAR", "REPORT"),
        *("PURGE", "QUERY", "SEARCH"),
    }
)
#: Upper bounds of the duration histogram's buckets, in seconds.
DURATION_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics(Collector):
    """The server's counters; ``exposition()`` renders them in the Prometheus text format."""

    def __init__(self) -> None:
        self.in_flight = 0
        self._scrapes = 0
        self.request_bytes = 0
        self.response_bytes = 0
        self.websocket_connections = 0
        self.websocket_messages = {"text": 0, "binary": 0}
        self.faults = {"reset": 0, "close": 0, "truncate": 0}
        self._requests: dict[tuple[str, int], int] = {}
        self._duration_buckets = [0] * (len(DURATION_BUCKETS_S) + 1)  # the last one is +Inf
        self._duration_sum_s = 0.0
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def observe_request(
        self, method: str, status: int, request_bytes: int, response_bytes: int, duration_s: float
    ) -> None:
        """Count one finished HTTP request; ``status`` 0 means no response was sent."""
        key = (method if method in KNOWN_METHODS else "OTHER", status // 100)
        self._requests[key] = self._requests.get(key, 0) + 1
        self.request_bytes += request_bytes
        self.response_bytes += response_bytes
        self._duration_buckets[bisect_left(DURATION_BUCKETS_S, duration_s)] += 1
        self._duration_sum_s += duration_s

    def count_fault(self, fault: str) -> None:
        """Count one ``echo_fault`` carried out (its request is counted with ``observe_request`` too)."""
        if fault in self.faults:
            self.faults[fault] += 1

    def collect(self) -> Iterator[Metric]:
        """The metric families, built from the counts at scrape time (prometheus-client ``Collector``)."""
        requests = CounterMetricFamily(
            "echo_http_requests", "HTTP requests answered", labels=["method", "status_class"]
        )
        for (method, status_hundreds), count in sorted(self._requests.items()):
            requests.add_metric([method, f"{status_hundreds}xx" if status_hundreds else "none"], count)
        yield requests
        yield CounterMetricFamily(
            "echo_http_request_content_bytes", "Request content bytes received", value=self.request_bytes
        )
        yield CounterMetricFamily(
            "echo_http_response_content_bytes", "Response content bytes sent", value=self.response_bytes
        )
        cumulative, buckets = 0, []
        for bound, count in zip((*map(str, DURATION_BUCKETS_S), "+Inf"), self._duration_buckets, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        yield HistogramMetricFamily(
            "echo_http_request_duration_seconds",
            "Time from request start to response end, in seconds",
            buckets=buckets,
            sum_value=self._duration_sum_s,
        )
        yield GaugeMetricFamily(
            "echo_http_requests_in_flight", "HTTP requests in progress", value=max(self.in_flight - self._scrapes, 0)
        )
        yield CounterMetricFamily(
            "echo_websocket_connections", "WebSocket connections accepted", value=self.websocket_connections
        )
        messages = CounterMetricFamily("echo_websocket_messages", "WebSocket messages echoed", labels=["kind"])
        for kind, count in self.websocket_messages.items():
            messages.add_metric([kind], count)
        yield messages
        faults = CounterMetricFamily("echo_http_faults", "Faults carried out on request (echo_fault)", labels=["fault"])
        for fault, count in self.faults.items():
            faults.add_metric([fault], count)
        yield faults

    def exposition(self) -> bytes:
        """The Prometheus text exposition of every metric (served as ``prometheus_client.CONTENT_TYPE_LATEST``).
        Called while answering a scrape, which is itself in flight: the gauge leaves it out."""
        self._scrapes += 1
        try:
            return generate_latest(self.registry)
        finally:
            self._scrapes -= 1
