"""Prometheus metrics of the ingest service."""

from prometheus_client import Counter, Histogram

INPUTS = Counter(
    "nof_ingest_inputs_total",
    "Inputs handled by ingest, by kind, outcome and (for rejections) reason",
    ["kind", "outcome", "reason"],
)
PRODUCE_LATENCY = Histogram(
    "nof_ingest_produce_latency_seconds",
    "Time from the first send to the broker acknowledging every record of a request",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUEST_RECORDS = Histogram(
    "nof_ingest_request_records",
    "Records published per accepted request",
    buckets=(1, 10, 100, 1000, 5000, 20000, 100000),
)


def rejected(kind: str, reason: str, count: int = 1) -> None:
    INPUTS.labels(kind, "rejected", reason).inc(count)


def accepted(kind: str, count: int) -> None:
    INPUTS.labels(kind, "accepted", "").inc(count)
