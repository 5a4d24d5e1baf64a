"""A secured local Kafka: SASL_SSL with SCRAM-SHA-512, TLS from the local CA, and ACLs.

The node is the plain launcher's node (``kafka.py``) with a :class:`NodeSecurity`:

- clients and the broker itself talk SASL_SSL (SCRAM-SHA-512) on ``port``; the
  controller listener (``port+100``, loopback only) talks SASL_PLAINTEXT with PLAIN, whose
  one user sits in the node's own JAAS line: the usual KRaft set-up, since SCRAM users
  live in the metadata the controller itself serves;
- SCRAM users are created by ``StorageTool format --add-scram``, so they exist from the
  first start; ``admin`` is the broker's own principal and the only super user;
- ``StandardAuthorizer`` with ``allow.everyone.if.no.acl.found=false``: a principal
  without ACLs can do nothing, and the ``eventgate`` principal gets exactly the ACLs of
  :func:`eventgate_acls`, created with Kafka's own ``AclCommand`` (aiokafka has no ACL
  API), the same command lines that ``docs/operations.md`` gives production operators.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventgate.devstack.certs import LocalCerts, ensure_certs, ensure_passwords
from eventgate.devstack.kafka import (
    KafkaCluster,
    NodeSecurity,
    ensure_kafka,
    ensure_kafka_jars,
    ensure_kafka_tools_jar,
    java,
)
from eventgate.devstack.process import DevstackError

Log = Callable[[str], None]

ADMIN_USER = "admin"
APP_USER = "eventgate"
MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class AclRule:
    """One ``kafka-acls --add`` line: operations allowed on a resource name or prefix."""

    resource: str  # topic, group or transactional-id (AclCommand's option names)
    name: str
    pattern: str  # prefixed or literal
    operations: tuple[str, ...]

    def command_args(self, principal: str) -> list[str]:
        ops = [arg for op in self.operations for arg in ("--operation", op)]
        return [
            "--add",
            "--allow-principal",
            f"User:{principal}",
            *ops,
            f"--{self.resource}",
            self.name,
            "--resource-pattern-type",
            self.pattern,
        ]


def eventgate_acls(topic_prefix: str, consumer_group: str) -> list[AclRule]:
    """Every ACL the eventgate principal needs, and nothing more:

    - topics ``{prefix}*``: Read, Write, Create (``ensure_topics`` creates them);
      Describe is implied by Read and Write;
    - consumer groups ``{group}*`` (the processors' ``{group}`` and the results
      consumer's ``{group}-results``) and ``{prefix}registry-writer``: Read;
    - transactional ids ``{prefix}*`` (``{prefix}{group}.{topic}.{partition}`` per ingest
      partition and ``{prefix}registry-writer``): Write.

    Idempotent producers need no IdempotentWrite on the cluster since Kafka 3.0
    (KIP-679: Write on any topic is enough)."""
    writer_group = f"{topic_prefix}registry-writer"
    rules = [
        AclRule("topic", topic_prefix, "prefixed", ("Read", "Write", "Create")),
        AclRule("group", consumer_group, "prefixed", ("Read",)),
    ]
    if not writer_group.startswith(consumer_group):
        rules.append(AclRule("group", writer_group, "literal", ("Read",)))
    rules.append(AclRule("transactional-id", topic_prefix, "prefixed", ("Write",)))
    return rules


def acl_command_lines(topic_prefix: str, consumer_group: str, principal: str = APP_USER) -> str:
    """The shell lines an operator runs with Kafka's ``kafka-acls.sh`` (docs/operations.md)."""
    head = 'kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config admin.properties'
    return "\n".join(
        " ".join([head, *rule.command_args(principal)])
        for rule in eventgate_acls(topic_prefix, consumer_group)
    )


def _scram_jaas(user: str, password: str) -> str:
    return (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{user}" password="{password}";'
    )


def node_security(certs: LocalCerts, passwords: Mapping[str, str]) -> NodeSecurity:
    """The secured node's settings; ``passwords`` holds ``admin`` and every SCRAM user."""
    admin = passwords[ADMIN_USER]
    plain_jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{ADMIN_USER}" password="{admin}" user_{ADMIN_USER}="{admin}";'
    )
    properties = {
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.sasl_ssl.{MECHANISM.lower()}.sasl.jaas.config": _scram_jaas(
            ADMIN_USER, admin
        ),
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": plain_jaas,
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(certs.server_keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(certs.ca_cert),
        "ssl.client.auth": "none",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN_USER}",
        "allow.everyone.if.no.acl.found": "false",
    }
    format_args = tuple(
        arg
        for user, password in passwords.items()
        for arg in ("--add-scram", f"{MECHANISM}=[name={user},password={password}]")
    )
    return NodeSecurity(
        listener="SASL_SSL",
        controller_protocol="SASL_PLAINTEXT",
        properties=properties,
        format_args=format_args,
        client=client_kwargs(certs.ca_cert, ADMIN_USER, admin),
    )


def client_kwargs(cafile: Path, user: str, password: str) -> dict[str, Any]:
    """aiokafka arguments of a SASL_SSL client (what ``connections.kafka_common`` builds
    from the settings; here for the launcher's own admin checks)."""
    import ssl

    return {
        "security_protocol": "SASL_SSL",
        "ssl_context": ssl.create_default_context(cafile=str(cafile)),
        "sasl_mechanism": MECHANISM,
        "sasl_plain_username": user,
        "sasl_plain_password": password,
    }


@dataclass
class SecureKafka:
    """A running secured Kafka, the CA its clients trust, and its users' passwords."""

    cluster: KafkaCluster
    certs: LocalCerts
    passwords: dict[str, str]

    @property
    def bootstrap(self) -> str:
        return self.cluster.bootstrap

    def settings_env(self, user: str = APP_USER) -> dict[str, str]:
        """The ``EVENTGATE_*`` variables that point eventgate at this Kafka as ``user``."""
        return {
            "EVENTGATE_KAFKA_BOOTSTRAP": self.bootstrap,
            "EVENTGATE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "EVENTGATE_KAFKA_SASL_MECHANISM": MECHANISM,
            "EVENTGATE_KAFKA_SASL_USERNAME": user,
            "EVENTGATE_KAFKA_SASL_PASSWORD": self.passwords[user],
            "EVENTGATE_KAFKA_SSL_CAFILE": str(self.certs.ca_cert),
        }

    def stop(self) -> None:
        self.cluster.stop()


def _admin_properties(folder: Path, certs: LocalCerts, password: str) -> Path:
    path = folder / "admin.properties"
    path.write_text(
        "\n".join(
            [
                "security.protocol=SASL_SSL",
                f"sasl.mechanism={MECHANISM}",
                f"sasl.jaas.config={_scram_jaas(ADMIN_USER, password)}",
                "ssl.truststore.type=PEM",
                f"ssl.truststore.location={certs.ca_cert}",
                "",
            ]
        )
    )
    path.chmod(0o600)
    return path


def apply_acls(
    cache: Path, bootstrap: str, admin_config: Path, rules: list[AclRule], principal: str
) -> None:
    """Add ``rules`` for ``principal`` with Kafka's ``AclCommand`` (adding twice is a no-op)."""
    classpath = f"{ensure_kafka_jars(cache)}/*:{ensure_kafka_tools_jar(cache)}"
    base = [java(), "-Xmx128m", "-cp", classpath, "org.apache.kafka.tools.AclCommand"]
    for rule in rules:
        argv = [
            *base,
            *("--bootstrap-server", bootstrap, "--command-config", str(admin_config)),
            *rule.command_args(principal),
        ]
        result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise DevstackError(f"AclCommand failed for {rule}:\n{result.stdout}{result.stderr}")


def ensure_secure_kafka(
    home: Path,
    cache: Path,
    port: int = 9093,
    *,
    users: tuple[str, ...] = (APP_USER,),
    topic_prefix: str = "eventgate.",
    consumer_group: str = "eventgate",
    log: Log = print,
    timeout: float = 120.0,
) -> SecureKafka:
    """A running secured single-node Kafka on ``port`` (controller on ``port+100``) whose
    ``eventgate`` user holds the ACLs of :func:`eventgate_acls`; other ``users`` exist
    with no ACL at all. Certificates and passwords live in ``{home}/security``."""
    folder = home / "security"
    certs = ensure_certs(folder)
    passwords = ensure_passwords(folder / "kafka-users.json", (ADMIN_USER, *users))
    security = node_security(certs, passwords)
    cluster = ensure_kafka(home, cache, port, 1, log, timeout, security=security)
    if APP_USER in users:
        log(f"kafka: ACLs of User:{APP_USER} (topics/transactional ids {topic_prefix}*)")
        admin_config = _admin_properties(folder, certs, passwords[ADMIN_USER])
        try:
            rules = eventgate_acls(topic_prefix, consumer_group)
            apply_acls(cache, cluster.bootstrap, admin_config, rules, APP_USER)
        except BaseException:
            cluster.stop()
            raise
    return SecureKafka(cluster, certs, passwords)
