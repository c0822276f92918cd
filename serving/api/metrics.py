"""Prometheus metrics of the API: requests, latencies, predictions by route, model version."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

__all__ = ["ApiMetrics"]

# Seconds; fine steps below 100 ms, where a single-exception triage request should land.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


# The *_created series double the output and no dashboard of this service reads them.
disable_created_metrics()


class ApiMetrics:
    """The metrics of one application, in a registry of its own so test apps do not collide."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "triage_http_requests", "HTTP requests served", ("method", "route", "status"), registry=self.registry
        )
        self.latency = Histogram(
            "triage_http_request_duration_seconds", "Time to serve an HTTP request",
            ("method", "route"), buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.predictions = Counter(
            "triage_predictions", "Predictions made through the API", ("route",), registry=self.registry
        )
        self.model_info = Gauge(
            "triage_model_info", "The model bundle in use (value 1)", ("name", "version"), registry=self.registry
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and record its latency; ``route`` is the path template, not the path."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def count_predictions(self, route: str, count: int = 1) -> None:
        self.predictions.labels(route).inc(count)

    def set_model(self, name: str, version: str) -> None:
        self.model_info.clear()
        self.model_info.labels(name, version).set(1)

    def render(self) -> bytes:
        """Return every metric in the Prometheus text exposition format."""
        return generate_latest(self.registry)
