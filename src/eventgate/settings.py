"""Configuration: one pydantic-settings class, read from ``EVENTGATE_*`` variables.

Build it once in ``main()`` and pass it down; nothing reads the environment at import
time. ``docs/configuration.md`` and the README table are checked against this class by
``tests/unit/test_settings.py``, so every field must be documented there.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TokenList = Annotated[tuple[str, ...], NoDecode]


class KafkaSecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class Settings(BaseSettings):
    """Every setting of eventgate; the variable is ``EVENTGATE_`` + the field name, upper case."""

    model_config = SettingsConfigDict(
        env_prefix="EVENTGATE_",
        extra="ignore",
        frozen=True,
        case_sensitive=False,
    )

    # Kafka
    kafka_bootstrap: str = Field("localhost:9092", description="Kafka bootstrap servers")
    kafka_security_protocol: KafkaSecurityProtocol = Field(
        KafkaSecurityProtocol.PLAINTEXT, description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"
    )
    kafka_sasl_mechanism: SaslMechanism = Field(
        SaslMechanism.SCRAM_SHA_512, description="SASL mechanism when SASL is on"
    )
    kafka_sasl_username: str = Field("", description="SASL user name")
    kafka_sasl_password: SecretStr = Field(SecretStr(""), description="SASL password")
    kafka_ssl_cafile: str = Field("", description="CA bundle to verify the brokers (TLS)")
    kafka_ssl_certfile: str = Field("", description="client certificate (mutual TLS)")
    kafka_ssl_keyfile: str = Field("", description="client private key (mutual TLS)")
    topic_prefix: str = Field("eventgate.", description="prefix of every topic name")
    ingest_partitions: int = Field(6, ge=1, description="partitions of the ingest topic")
    output_partitions: int = Field(6, ge=1, description="partitions of each output topic")
    topic_replication_factor: int = Field(
        3, ge=1, description="replication factor of created topics (1 on a single broker)"
    )
    topic_min_insync_replicas: int = Field(
        2, ge=1, description="min.insync.replicas of created topics (capped at the replication)"
    )
    ingest_retention_hours: int = Field(
        168, ge=24, description="retention of ingest and rejected (replay and rebuild need it)"
    )
    consumer_group: str = Field("eventgate", description="consumer group of the processors")

    # Redis
    redis_url: SecretStr = Field(
        SecretStr("redis://localhost:6379/0"),
        description="Redis URL (rediss:// for TLS; user:password@ for ACL users)",
    )
    redis_cluster: bool = Field(False, description="talk to a Redis Cluster")
    redis_ssl_cafile: str = Field("", description="CA bundle to verify Redis (TLS)")

    # HTTP
    api_host: str = Field("127.0.0.1", description="address the API and console listen on")
    api_port: int = Field(8080, ge=0, le=65535, description="port of the API and console")
    worker_http_port: int = Field(
        8081, ge=0, le=65535, description="port of a worker's /metrics, /healthz, /readyz"
    )
    api_max_body_bytes: int = Field(
        1_048_576, ge=1024, description="largest API request body (POST /events: 500 records)"
    )
    api_rate_per_s: float = Field(
        50.0, ge=0, description="API requests per second per token (or client address); 0: off"
    )
    api_burst: int = Field(
        200, ge=1, description="API requests a token (or client address) may send at once"
    )
    read_tokens: TokenList = Field((), description="bearer tokens with the read scope")
    admin_tokens: TokenList = Field((), description="bearer tokens with every scope")
    engine_tokens: TokenList = Field((), description="bearer tokens for workflows and segments")
    producer_tokens: TokenList = Field((), description="bearer tokens for POST /events")

    # Command line (eventgate types / rules talk to the API)
    cli_api_url: str = Field("http://localhost:8080", description="API the CLI talks to")
    cli_token: SecretStr = Field(SecretStr(""), description="bearer token the CLI sends")

    # Processing
    max_record_bytes: int = Field(65536, ge=1024, description="largest accepted ingest record")
    dedupe_max_ids: int = Field(
        5_000_000, ge=1000, description="cap on remembered event ids (bounds the dedupe window)"
    )
    activity_window_days: int = Field(
        30, ge=1, description="a type is active if an event arrived within this many days"
    )
    registration_max_per_minute: int = Field(
        1000, ge=1, description="auto-registrations allowed per minute, cluster-wide"
    )
    registration_max_total: int = Field(
        100_000, ge=1, description="event types allowed in total, cluster-wide"
    )
    history_size: int = Field(1000, ge=1, description="events kept in each type's history")
    history_max_entries: int = Field(
        1_000_000, ge=1000, description="history entries kept across all types (bounds memory)"
    )
    mask_contacts: bool = Field(False, description="mask contact identifiers in history and logs")

    # Logs
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: LogFormat = Field(LogFormat.JSON, description="json or text")
    log_rejects_per_minute: int = Field(
        60, ge=0, description="rejected records logged per minute and process (0: none)"
    )
    log_contacts: bool = Field(
        False, description="allow contact identifiers in logs (only if mask_contacts is off)"
    )

    # Monitoring
    metrics_refresh_s: float = Field(
        10.0, gt=0, description="how often a worker refreshes consumer lag and Redis reachability"
    )
    volume_floor_interval_s: float = Field(
        60.0, gt=0, description="how often a worker evaluates the event types' volume floors"
    )
    metrics_type_series_max: int = Field(
        500, ge=0, description="most types with their own volume-floor series (rest: _other)"
    )

    @field_validator(
        "read_tokens", "admin_tokens", "engine_tokens", "producer_tokens", mode="before"
    )
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(token.strip() for token in value.split(",") if token.strip())
        return value

    def topic(self, name: str) -> str:
        """The full name of topic ``name`` (``ingest``, ``registry``…) under the prefix."""
        return f"{self.topic_prefix}{name}"


def settings_table_markdown() -> str:
    """The configuration table of the README: every variable, its default, its meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        if isinstance(default, StrEnum):
            default = default.value
        if isinstance(default, tuple):
            default = ",".join(default)
        if isinstance(default, bool):
            default = str(default).lower()
        shown = f"`{default}`" if default != "" else "(empty)"
        rows.append(f"| `EVENTGATE_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)
