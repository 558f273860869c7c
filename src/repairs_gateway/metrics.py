"""Prometheus metrics: requests and backend calls by operation, latency and errors; and the
backlog (repairs by council and status, jobs by kind and state, the oldest due job, dead
jobs), read from the database when ``/metrics`` is scraped, since the worker may run in
another process.

Each app has its own registry, so that several apps (tests, the demo) can live in one process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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

        # The backlog: the same figures from every process sharing a database, so aggregate
        # them across processes with max(), not sum().
        self.repairs = Gauge(
            "repairs_gateway_repairs",
            "Repairs stored, by council and lifecycle status (read from the database).",
            ["council", "status"],
            registry=self.registry,
        )
        self.jobs = Gauge(
            "repairs_gateway_jobs",
            "Jobs not done, by kind and state (queued, running, dead; read from the database).",
            ["kind", "state"],
            registry=self.registry,
        )
        self.job_oldest_due_seconds = Gauge(
            "repairs_gateway_job_oldest_due_seconds",
            "How long the queued job that has been due longest has waited for a worker; 0 when none is due.",
            registry=self.registry,
        )
        self.jobs_dead = Gauge(
            "repairs_gateway_jobs_dead",
            "Jobs that gave up and wait for a person (retryRepair, `repairs-gateway repairs retry`).",
            registry=self.registry,
        )

    def observe_backlog(
        self,
        repairs: Mapping[tuple[str, str], int],
        jobs: Mapping[tuple[str, str], int],
        oldest_due_seconds: float,
        dead: int,
        councils: Iterable[str] = (),
        statuses: Iterable[str] = (),
    ) -> None:
        """Set the backlog gauges to what the database holds now: every (council, status) of
        ``councils`` x ``statuses`` is shown, 0 when it has no repair, so an alert on
        ``needs_attention`` has a series to watch."""
        self.repairs.clear()
        for council in councils:
            for status in statuses:
                self.repairs.labels(council, status).set(0)
        for (council, status), count in repairs.items():
            self.repairs.labels(council, status).set(count)
        self.jobs.clear()
        for (kind, state), count in jobs.items():
            self.jobs.labels(kind, state).set(count)
        self.job_oldest_due_seconds.set(oldest_due_seconds)
        self.jobs_dead.set(dead)

    def forget_backlog(self) -> None:
        """Show the backlog as unknown rather than stale (the database did not answer)."""
        self.repairs.clear()
        self.jobs.clear()
        self.job_oldest_due_seconds.set(float("nan"))
        self.jobs_dead.set(float("nan"))

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
