"""The event-type registry: a compacted Kafka topic materialised in every process."""
