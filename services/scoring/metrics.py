"""Prometheus metrics of the scoring service."""

from prometheus_client import Counter, Gauge, Histogram

INPUTS = Counter("nof_scoring_inputs_total", "Inputs consumed by the scorer", ["type", "outcome"])
DEAD_LETTERS = Counter("nof_scoring_dead_letters_total", "Records sent to a dead-letter topic", ["topic", "reason"])
CHANGE_EVENTS = Counter("nof_scoring_change_events_total", "Change events emitted", ["type"])
APPLY_SECONDS = Histogram(
    "nof_scoring_apply_seconds", "Time to apply one input to the methodology engine and build its events",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
)
PROCESSING_LATENCY = Histogram(
    "nof_scoring_processing_latency_seconds", "From ingest accepting an input to its league being written to Redis",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1, 2.5, 5, 10, 30),
)
CACHE_WRITE_SECONDS = Histogram(
    "nof_scoring_cache_write_seconds", "Time to build and write one league snapshot to Redis",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
CONSUMER_LAG = Gauge("nof_scoring_consumer_lag", "Records not yet committed, per input partition", ["topic", "partition"])
LEAGUE_VERSION = Gauge("nof_scoring_league_version", "Current league version", ["league"])
OUTBOX_PENDING = Gauge("nof_scoring_outbox_pending", "League versions whose events await broker acknowledgement")
CACHE_REBUILDS = Counter("nof_scoring_cache_rebuilds_total", "Leagues rewritten whole to Redis", ["reason"])
