"""The topics of SPEC §6, their settings, and their idempotent creation."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from eventgate.connections import kafka_common
from eventgate.errors import ConfigurationError
from eventgate.settings import Settings

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Every topic eventgate reads or writes, with production-minded configuration."""
    replicated = {
        "min.insync.replicas": str(
            min(settings.topic_min_insync_replicas, settings.topic_replication_factor)
        )
    }
    retained = {
        **replicated,
        "retention.ms": str(settings.ingest_retention_hours * HOUR_MS),
    }
    outputs = settings.output_partitions
    return [
        TopicSpec(settings.topic("ingest"), settings.ingest_partitions, retained),
        TopicSpec(settings.topic("workflow.launch"), outputs, retained),
        TopicSpec(settings.topic("workflow.stop"), outputs, retained),
        TopicSpec(settings.topic("segmentation"), outputs, retained),
        TopicSpec(settings.topic("rejected"), outputs, retained),
        TopicSpec(settings.topic("workflow.results"), outputs, retained),
        # The registry: compacted, one partition, so every process reads one total order.
        TopicSpec(
            settings.topic("registry"),
            1,
            {**replicated, "cleanup.policy": "compact", "min.compaction.lag.ms": str(HOUR_MS)},
        ),
        # Requests to the single registry writer, and its replies (short-lived).
        TopicSpec(
            settings.topic("registry.requests"),
            1,
            {**replicated, "retention.ms": str(24 * HOUR_MS)},
        ),
        TopicSpec(
            settings.topic("registry.replies"),
            1,
            {**replicated, "retention.ms": str(HOUR_MS)},
        ),
    ]


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the topics that do not exist yet; returns the names it created."""
    admin = AIOKafkaAdminClient(**kafka_common(settings, "eventgate-admin"))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in topic_specs(settings) if spec.name not in existing]
        if not missing:
            return []
        new = [
            NewTopic(
                spec.name,
                spec.partitions,
                settings.topic_replication_factor,
                topic_configs=spec.config,
            )
            for spec in missing
        ]
        answer = await admin.create_topics(new)
        created, problems = [], []
        for name, code, *rest in answer.topic_errors:
            if code == 0:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:  # another process was first: fine
                message = rest[0] if rest and rest[0] else f"error code {code}"
                problems.append(f"{name}: {message}")
        if problems:
            raise ConfigurationError("could not create topics: " + "; ".join(problems))
        return sorted(created)
    finally:
        await admin.close()


async def topic_partitions(settings: Settings, topics: list[str]) -> dict[str, list[int]]:
    """The partition numbers of each of ``topics`` (an empty list for a missing topic)."""
    admin = AIOKafkaAdminClient(**kafka_common(settings, "eventgate-admin"))
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    found = {
        t["topic"]: sorted(p["partition"] for p in t["partitions"])
        for t in described
        if not t["error_code"]
    }
    return {topic: found.get(topic, []) for topic in topics}
