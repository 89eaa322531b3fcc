"""Prometheus metrics of the publisher (names prefixed ``nof_publisher_``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

deliveries = Counter("nof_publisher_deliveries_total", "Webhook delivery attempts by outcome", ["outcome"])
delivery_latency = Histogram("nof_publisher_delivery_latency_seconds", "One webhook POST, request to answer",
                             buckets=LATENCY_BUCKETS)
retries = Counter("nof_publisher_retries_total", "Webhook delivery retries scheduled")
dead_letter_size = Gauge("nof_publisher_dead_letter_size", "Deliveries in dead-letter lists (this instance's view)")
dead_letters_dropped = Counter("nof_publisher_dead_letters_dropped_total",
                               "Oldest dead letters dropped because a subscription's list was at its cap")
delivery_gaps = Counter("nof_publisher_delivery_gaps_total",
                        "Times a subscriber's cursor fell behind the retained event log (events it never got)")
subscriptions_disabled = Counter("nof_publisher_subscriptions_disabled_total",
                                 "Subscriptions disabled by the circuit breaker after failing too long")
sse_clients = Gauge("nof_publisher_sse_clients", "Connected SSE clients")
sse_overflows = Counter("nof_publisher_sse_overflows_total", "SSE clients disconnected because their queue was full")
change_to_delivery = Histogram("nof_publisher_change_to_delivery_seconds",
                               "From the change's occurred_at to its delivery, by channel", ["channel"],
                               buckets=LATENCY_BUCKETS)
consumed = Counter("nof_publisher_changes_total", "Change events read from Kafka by outcome", ["outcome"])
alerts = Counter("nof_publisher_alerts_total", "Segment alerts derived", ["type"])
