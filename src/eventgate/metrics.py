"""Every Prometheus metric of eventgate, declared in one place on an injectable registry.

Label values are never chosen by producers: reasons, outcomes and kinds come from closed
lists, partitions from the topic's configuration. The one per-type series is the volume
floor gauge (SPEC §12): only types that have a floor, at most
``metrics_type_series_max`` of them, the rest summed under ``type="_other"`` (no type key
can be ``_other``: keys start with a letter or digit). Other per-type figures belong to the
API and the Redis counters (DESIGN-NOTES decision 8).

``docs/operations.md`` lists every metric declared here (a test holds it to that).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from eventgate.ingest.reasons import RejectReason

if TYPE_CHECKING:
    from eventgate.registry.service import Registry

BATCH_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
END_TO_END_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
OTHER_TYPES = "_other"
"""The ``type`` label value of the types beyond the per-type series cap."""


class FunctionCounter(Collector):
    """A counter whose value is read from ``fn`` at scrape time, for figures another
    object already counts (the registry writer's takeovers, the reader's malformed
    records). Like ``Gauge.set_function``, but typed counter so ``rate()`` reads right."""

    def __init__(self, name: str, documentation: str, registry: CollectorRegistry) -> None:
        self.name = name.removesuffix("_total")
        self.documentation = documentation
        self._fn: Callable[[], float] = lambda: 0.0
        registry.register(self)

    def set_function(self, fn: Callable[[], float]) -> None:
        self._fn = fn

    def describe(self) -> Iterable[Metric]:
        return [CounterMetricFamily(self.name, self.documentation)]

    def collect(self) -> Iterable[Metric]:
        return [CounterMetricFamily(self.name, self.documentation, value=self._fn())]


class Metrics:
    """The metrics of one process. Pass a fresh ``CollectorRegistry`` in tests."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created doubles scrapes
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        # -- ingest ------------------------------------------------------------------------
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
        self.transaction_seconds = Histogram(
            "eventgate_transaction_seconds",
            "Time of one batch's Kafka transaction, begin to commit returned (its outputs "
            "produced, its offset committed)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end = Histogram(
            "eventgate_end_to_end_seconds",
            "Ingest record timestamp to its launch commands committed, per launching event",
            buckets=END_TO_END_BUCKETS,
            registry=r,
        )
        self.consumer_lag = Gauge(
            "eventgate_consumer_lag_records",
            "Ingest records not yet processed, per partition this process owns "
            "(end offset minus committed position)",
            ["partition"],
            registry=r,
        )
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
        # -- Redis -------------------------------------------------------------------------
        self.redis_seconds = Histogram(
            "eventgate_redis_batch_seconds",
            "Time of the one Redis call per (partition, batch)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.redis_errors = Counter(
            "eventgate_redis_errors_total",
            "Failed Redis batch calls (each is retried: nothing is committed meanwhile)",
            registry=r,
        )
        self.redis_reapplied = Counter(
            "eventgate_redis_reapplied_positions_total",
            "Ingest positions applied to Redis again because Redis came back without them",
            registry=r,
        )
        self.redis_up = Gauge(
            "eventgate_redis_up",
            "1 if this process's last Redis call or probe succeeded, else 0",
            registry=r,
        )
        self.dedupe_window = Gauge(
            "eventgate_dedupe_window_seconds",
            "Age of the oldest remembered eventId (24 h unless the id cap cuts it shorter)",
            registry=r,
        )
        # -- workflow results --------------------------------------------------------------
        self.results = Counter(
            "eventgate_workflow_results_total",
            "Workflow results read, by outcome (started, failed, counted, malformed, unknown)",
            ["outcome"],
            registry=r,
        )
        for outcome in ("started", "failed", "counted", "malformed", "unknown"):
            self.results.labels(outcome)
        # -- API ---------------------------------------------------------------------------
        self.api_rate_limited = Counter(
            "eventgate_api_rate_limited_total",
            "API requests refused with 429 by the rate limit, by caller kind (token, address)",
            ["caller"],
            registry=r,
        )
        for caller in ("token", "address"):
            self.api_rate_limited.labels(caller)
        # -- registry ----------------------------------------------------------------------
        self.registry_types = Gauge(
            "eventgate_registry_types", "Event types in this process's registry view", registry=r
        )
        self.registry_writer = Gauge(
            "eventgate_registry_writer",
            "1 if this process is the registry writer, else 0",
            registry=r,
        )
        self.writer_takeovers = FunctionCounter(
            "eventgate_registry_writer_takeovers_total",
            "Times this process became the registry writer",
            registry=r,
        )
        self.writer_fenced = FunctionCounter(
            "eventgate_registry_writer_fenced_total",
            "Times this process's registry writer was fenced by a newer one",
            registry=r,
        )
        self.registry_malformed = FunctionCounter(
            "eventgate_registry_malformed_records_total",
            "Registry log records this process could not read (skipped)",
            registry=r,
        )
        # -- volume floors (SPEC §3, §12) --------------------------------------------------
        self.floor_types = Gauge(
            "eventgate_volume_floor_types",
            "Event types with a volume floor (0 unless this process evaluates floors)",
            registry=r,
        )
        self.floor_types_below = Gauge(
            "eventgate_volume_floor_types_below",
            "Event types below their volume floor (0 unless this process evaluates floors)",
            registry=r,
        )
        self.floor_below = Gauge(
            "eventgate_type_below_volume_floor",
            "Per type with a floor: 1 if below it, else 0; type=_other sums the types "
            "beyond the series cap",
            ["type"],
            registry=r,
        )
        self.floor_evaluated = Gauge(
            "eventgate_volume_floor_evaluated_timestamp_seconds",
            "When this process last evaluated the volume floors (0: it does not evaluate)",
            registry=r,
        )

    def watch_registry(self, registry: Registry) -> None:
        """Read the registry figures from ``registry`` at every scrape (worker and API)."""
        self.registry_types.set_function(registry.state.type_count)
        self.registry_writer.set_function(lambda: 1.0 if registry.is_writer else 0.0)
        writer = registry.writer
        if writer is not None:
            self.writer_takeovers.set_function(lambda: float(writer.takeovers))
            self.writer_fenced.set_function(lambda: float(writer.fenced))
        self.registry_malformed.set_function(lambda: float(registry.state.malformed))


def declared_names(registry: CollectorRegistry) -> set[str]:
    """Every series name ``registry`` can expose, samples not yet set included: a
    counter's ``_total``, a histogram's ``_bucket``, ``_sum`` and ``_count``."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    names: set[str] = set()
    for family in registry.collect():
        for suffix in suffixes.get(family.type, ("",)):
            names.add(family.name + suffix)
        names.update(sample.name for sample in family.samples)
    return names
