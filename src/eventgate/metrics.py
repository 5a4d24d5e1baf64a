"""Every Prometheus metric of eventgate, declared in one place on an injectable registry.

Label values are never chosen by producers: reasons come from a closed list, and per-type
figures live in the API and Redis counters, not in Prometheus (DESIGN-NOTES decision 8).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from eventgate.ingest.reasons import RejectReason

BATCH_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """The metrics of one process. Pass a fresh ``CollectorRegistry`` in tests."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created doubles scrapes
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.events_in = Counter("eventgate_events_in_total", "Ingest records read", registry=r)
        self.events_rejected = Counter(
            "eventgate_events_rejected_total",
            "Ingest records rejected, by reason",
            ["reason"],
            registry=r,
        )
        for reason in RejectReason:
            self.events_rejected.labels(reason.value)
        self.events_accepted = Counter(
            "eventgate_events_accepted_total", "Ingest events accepted", registry=r
        )
        self.duplicates = Counter(
            "eventgate_events_duplicate_total",
            "Events skipped as duplicates of an earlier explicit eventId",
            registry=r,
        )
        self.commands = Counter(
            "eventgate_commands_emitted_total",
            "Workflow commands produced, by kind (launch, stop)",
            ["kind"],
            registry=r,
        )
        for kind in ("launch", "stop"):
            self.commands.labels(kind)
        self.transactions = Counter(
            "eventgate_transactions_total",
            "Kafka transactions of the ingest processor, by outcome",
            ["outcome"],
            registry=r,
        )
        for outcome in ("committed", "aborted", "fenced"):
            self.transactions.labels(outcome)
        self.redis_seconds = Histogram(
            "eventgate_redis_batch_seconds",
            "Time of the one Redis call per (partition, batch)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end = Histogram(
            "eventgate_end_to_end_seconds",
            "Ingest record timestamp to launch command produced",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.dedupe_window = Gauge(
            "eventgate_dedupe_window_seconds",
            "Age of the oldest remembered eventId (24 h unless the id cap cuts it shorter)",
            registry=r,
        )
        self.results = Counter(
            "eventgate_workflow_results_total",
            "Workflow results read, by outcome (started, failed, counted, malformed, unknown)",
            ["outcome"],
            registry=r,
        )
        for outcome in ("started", "failed", "counted", "malformed", "unknown"):
            self.results.labels(outcome)
        self.types_registered = Counter(
            "eventgate_types_auto_registered_total",
            "Event types registered automatically from the stream",
            registry=r,
        )
        self.registration_limited = Counter(
            "eventgate_registration_limit_hits_total",
            "Events refused because an auto-registration cap was reached",
            registry=r,
        )
        self.batch_size = Histogram(
            "eventgate_batch_size_records",
            "Records per processed (partition, poll) batch",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.batch_seconds = Histogram(
            "eventgate_batch_processing_seconds",
            "Time to process one (partition, poll) batch",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.registry_types = Gauge(
            "eventgate_registry_types", "Event types in this process's registry view", registry=r
        )
        self.registry_writer = Gauge(
            "eventgate_registry_writer",
            "1 if this process is the registry writer, else 0",
            registry=r,
        )
