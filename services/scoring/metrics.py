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
    ["league"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1, 2.5, 5, 10, 30),
)
INPUT_STAGE_SECONDS = Histogram(
    "nof_scoring_input_stage_seconds", "Where an input's time goes between ingest and Redis, by stage: fetch "
    "(ingest sent its record to the worker receiving it), batch (received to its batch being applied: the batch "
    "window, the partition's previous batch, a league write holding the partition), commit (applied and made "
    "durable), write (durable to its league written to Redis). The first three are observed once per record, "
    "write once per input", ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1, 2.5, 5, 10, 30),
)
CACHE_WRITE_SECONDS = Histogram(
    "nof_scoring_cache_write_seconds", "Time to build and write one league snapshot to Redis, start to end "
    "(other tasks run between its steps)",
    ["league"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
CACHE_WRITE_BUSY_SECONDS = Histogram(
    "nof_scoring_cache_write_busy_seconds", "Time one league write held the event loop (its own steps, without "
    "what other tasks ran between them): the cost its pacing is based on", ["league"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
LEAGUE_VERSION = Gauge("nof_scoring_league_version", "Current league version", ["league"])
OUTBOX_PENDING = Gauge("nof_scoring_outbox_pending", "Change events of a batch sent but not yet acknowledged by the broker")
CACHE_WRITE_FAILURES = Counter("nof_scoring_cache_write_failures_total", "League writes to Redis that failed "
                               "(each is retried after a pause, the league rewritten whole)", ["league"])
CACHE_REBUILDS = Counter("nof_scoring_cache_rebuilds_total", "Leagues rewritten whole to Redis", ["reason"])
BATCH_INPUTS = Histogram(
    "nof_scoring_batch_writes", "State keys written by one durable batch of an input partition",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500),
)
APPLIED_LAG = Gauge("nof_scoring_applied_lag", "Records on an input partition not yet applied (end offset minus "
                    "next offset to apply)", ["topic", "partition"])
REPOSITIONS = Counter("nof_scoring_repositions_total", "Times an input partition was sought back to its next "
                      "unapplied offset after a gap", ["topic", "partition"])
RETENTION_SKIPS = Counter("nof_scoring_retention_skipped_records_total", "Records never applied because retention "
                          "deleted them before the scorer read them", ["topic", "partition"])
STALLED = Gauge("nof_scoring_partition_stalled", "1 while records wait on an input partition and its applied offset "
                "has not moved for NOF_SCORING_STALL_AFTER_S", ["topic", "partition"])
GC_PAUSE_SECONDS = Histogram(
    "nof_scoring_gc_pause_seconds", "Pauses of the cyclic garbage collector, by generation (2: a full collection)",
    ["generation"], buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
