"""Prometheus metrics: requests and backend calls by operation, latency and errors.

Each app has its own registry, so that several apps (tests, the demo) can live in one process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The gateway's metrics, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "repairs_gateway_requests",
            "HTTP requests answered, by operation and status code.",
            ["operation", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "repairs_gateway_request_seconds",
            "Time to answer an HTTP request, by operation.",
            ["operation"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.backend_calls = Counter(
            "repairs_gateway_backend_calls",
            "Calls to adaptors, by adaptor, call and outcome (ok, unavailable, rejected, "
            "not_found, slot_unavailable, error).",
            ["adapter", "call", "outcome"],
            registry=self.registry,
        )
        self.backend_seconds = Histogram(
            "repairs_gateway_backend_seconds",
            "Time an adaptor call took, by adaptor and call.",
            ["adapter", "call"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
