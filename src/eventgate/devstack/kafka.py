"""Apache Kafka (KRaft) from Maven Central, on this machine, without Docker.

The broker's jars (``org.apache.kafka:kafka_2.13`` with its runtime dependencies and
log4j2) are fetched once by Maven into ``{cache}/kafka-{version}/libs``; each node then runs
as ``java -cp libs/* kafka.Kafka server.properties`` after ``kafka.tools.StorageTool
format``. One node (broker + controller) by default; three for the fault tests. A secured
node (SASL_SSL, ACLs; ``kafka_secure.py``) is the same node with a :class:`NodeSecurity`.

Kafka 4.1 is the version: aiokafka's transactions, ``send_offsets_to_transaction`` and
``read_committed`` fetches were checked against it (``tests/integration/test_services.py``).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventgate.devstack.coordinators import warm_within
from eventgate.devstack.process import (
    DevstackError,
    ServiceProcess,
    load_state,
    port_open,
    spawn,
    stop,
    stop_on_failure,
    wait_until,
)

KAFKA_VERSION = "4.1.1"
LOG4J_VERSION = "2.25.3"
SLF4J_VERSION = "2.0.17"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>eventgate.devstack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>{kafka}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
      <version>{slf4j}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.controller
        level: WARN
      - name: kafka.log.LogCleaner
        level: WARN
"""

Log = Callable[[str], None]


def _maven(goal: list[str], cwd: Path, what: str) -> None:
    """Run one Maven goal quietly; a failure says what could not be fetched."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise DevstackError(
            f"Maven (mvn) is needed once to fetch {what} from Maven Central: apt-get install maven"
        )
    result = subprocess.run(
        [mvn, "-B", "-q", *goal], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise DevstackError(f"Maven could not fetch {what}:\n{result.stdout}\n{result.stderr}")


def ensure_kafka_jars(cache: Path, log: Log = print) -> Path:
    """The folder of the broker's jars, fetched with Maven on first use."""
    home = cache / f"kafka-{KAFKA_VERSION}"
    libs = home / "libs"
    marker = home / "complete"
    if marker.exists():
        return libs
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(
        _POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION, slf4j=SLF4J_VERSION)
    )
    log(f"fetching Apache Kafka {KAFKA_VERSION} from Maven Central into {libs} (once)")
    shutil.rmtree(libs, ignore_errors=True)
    goal = ["dependency:copy-dependencies", f"-DoutputDirectory={libs}", "-DincludeScope=runtime"]
    _maven(goal, home, "Apache Kafka")
    if not any(libs.glob(f"kafka_2.13-{KAFKA_VERSION}.jar")):
        raise DevstackError(f"Maven finished but {libs} has no kafka_2.13 jar")
    marker.write_text(KAFKA_VERSION)
    return libs


def ensure_kafka_tools_jar(cache: Path, log: Log = print) -> Path:
    """Kafka's command-line tools jar (``org.apache.kafka.tools.AclCommand``…), fetched with
    Maven on first use. The broker's jars hold everything else it needs, so it runs as
    ``java -cp 'libs/*:kafka-tools.jar'``."""
    folder = cache / f"kafka-{KAFKA_VERSION}" / "tools"
    jar = folder / f"kafka-tools-{KAFKA_VERSION}.jar"
    if jar.exists():
        return jar
    log(f"fetching kafka-tools {KAFKA_VERSION} from Maven Central into {folder} (once)")
    folder.mkdir(parents=True, exist_ok=True)
    artifact = f"-Dartifact=org.apache.kafka:kafka-tools:{KAFKA_VERSION}"
    _maven(["dependency:copy", artifact, f"-DoutputDirectory={folder}"], folder, "kafka-tools")
    if not jar.exists():
        raise DevstackError(f"Maven finished but {folder} has no kafka-tools jar")
    return jar


# JIT: C1 only. The default tiered JIT compiles Kafka's hot paths with C2 for minutes of
# load; on two cores shared with the pipeline those compiler threads were half the broker's
# CPU during a drain: 16.4 CPU µs per event with C2 from a fresh start, 11.9 and 8.8 in the
# next two drains as it warmed, 7.9 from the start with C1 only (``bench/run.py --workers 1
# --skip floor,quix,faust,latency --events 600000``; threads read from /proc/<pid>/task).
# A development broker never runs long enough for C2 to pay back. DEVSTACK_KAFKA_JVM_OPTS
# adds flags after these (``-XX:TieredStopAtLevel=4`` restores C2).
JVM_FLAGS = ("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:TieredStopAtLevel=1")


def jvm_flags() -> list[str]:
    """The broker's JVM flags: ``JVM_FLAGS``, then ``$DEVSTACK_KAFKA_JVM_OPTS``."""
    return [*JVM_FLAGS, *os.environ.get("DEVSTACK_KAFKA_JVM_OPTS", "").split()]


def java() -> str:
    """The ``java`` binary: ``$JAVA_HOME/bin/java`` or the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    binary = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not binary or not Path(binary).exists():
        raise DevstackError("Java 17+ is needed to run Kafka: apt-get install openjdk-17-jre")
    return binary


def _cluster_id() -> str:
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


@dataclass(frozen=True)
class NodeSecurity:
    """What a secured node changes in a plain one (``kafka_secure.py`` builds it): the
    security protocol of its client listener (also used between brokers) and of its
    controller listener, extra ``server.properties``, extra ``StorageTool format``
    arguments (SCRAM users exist from the first start), and the aiokafka arguments of a
    super user, with which the launcher checks the node answers."""

    listener: str
    controller_protocol: str
    properties: Mapping[str, str]
    format_args: tuple[str, ...]
    client: Mapping[str, Any]


@dataclass(frozen=True)
class ProxiedListener:
    """A second client listener on ``port`` that tells its clients to connect to
    ``advertised_port`` instead: a TCP proxy listening there and forwarding to ``port``
    then carries all of those clients' traffic (a broker hands out its advertised address,
    so a proxy in front of the plain listener is bypassed after the first metadata answer).
    Brokers and clients on the plain listener talk directly. One node, plaintext only."""

    port: int
    advertised_port: int
    name: str = "PROXIED"


@dataclass
class KafkaCluster:
    """A running local Kafka: its bootstrap address and the node processes we started."""

    bootstrap: str
    ports: tuple[int, ...]
    home: Path
    started: list[ServiceProcess] = field(default_factory=list)
    secure: bool = False

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the nodes this handle started (not the ones it reused), each given
        ``timeout`` seconds after SIGTERM before SIGKILL."""
        for node in reversed(self.started):
            stop(self.home, node, timeout)
        self.started.clear()

    def broker_processes(self) -> list[ServiceProcess]:
        """The state of every node process of this cluster (for fault tests)."""
        nodes = len(self.ports)
        found = (load_state(self.home, _node_name(p, nodes, self.secure)) for p in self.ports)
        return [s for s in found if s is not None]


def _node_name(port: int, nodes: int, secure: bool = False) -> str:
    return f"kafka-secure-{nodes}n-{port}" if secure else f"kafka-{nodes}n-{port}"


def _server_properties(
    node_id: int,
    ports: tuple[int, ...],
    controller_ports: tuple[int, ...],
    data: Path,
    security: NodeSecurity | None = None,
    proxied: ProxiedListener | None = None,
) -> str:
    n = len(ports)
    voters = ",".join(f"{i + 1}@127.0.0.1:{cp}" for i, cp in enumerate(controller_ports))
    port, cport = ports[node_id - 1], controller_ports[node_id - 1]
    rf = min(3, n)
    listener = security.listener if security else "PLAINTEXT"
    controller = security.controller_protocol if security else "PLAINTEXT"
    extra = [f"{key}={value}" for key, value in security.properties.items()] if security else []
    extra_at = extra_advertised = extra_protocol = ""
    if proxied is not None:
        extra_at = f",{proxied.name}://127.0.0.1:{proxied.port}"
        extra_advertised = f",{proxied.name}://127.0.0.1:{proxied.advertised_port}"
        extra_protocol = f",{proxied.name}:PLAINTEXT"
    return "\n".join(
        [
            "process.roles=broker,controller",
            f"node.id={node_id}",
            f"controller.quorum.voters={voters}",
            f"listeners={listener}://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}{extra_at}",
            f"advertised.listeners={listener}://127.0.0.1:{port}{extra_advertised}",
            "controller.listener.names=CONTROLLER",
            f"inter.broker.listener.name={listener}",
            f"listener.security.protocol.map={listener}:{listener},CONTROLLER:{controller}"
            f"{extra_protocol}",
            *extra,
            f"log.dirs={data}",
            "num.partitions=1",
            "auto.create.topics.enable=false",
            f"offsets.topic.replication.factor={rf}",
            "offsets.topic.num.partitions=10",
            f"transaction.state.log.replication.factor={rf}",
            f"transaction.state.log.min.isr={1 if n == 1 else 2}",
            "transaction.state.log.num.partitions=10",
            f"default.replication.factor={rf}",
            "group.initial.rebalance.delay.ms=0",
            "log.retention.check.interval.ms=60000",
            # KIP-890 verification: the broker asks the transaction coordinator about each
            # transactional produce of a client older than Produce v12 (aiokafka), and
            # answers its transient states (CONCURRENT_TRANSACTIONS while the previous
            # transaction's markers are written, a coordinator loading or slow to answer)
            # as NOT_ENOUGH_REPLICAS, which aiokafka retries and logs as a warning: on a
            # one-node broker with RF 1, under load, dozens of them per minute on
            # registry.replies, registry.requests and workflow.launch. aiokafka adds every
            # partition to its transaction itself (AddPartitionsToTxn) before the first
            # produce and flushes before EndTxn; production brokers keep the default.
            "transaction.partition.verification.enable=false",
            "",
        ]
    )


def _describe_cluster(bootstrap: str, client: Mapping[str, Any] | None = None) -> int:
    """Number of brokers the cluster reports, or 0 if it does not answer yet."""

    async def describe() -> int:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=5000, **(client or {})
        )
        try:
            await admin.start()
            info = await admin.describe_cluster()
            return len(info.get("brokers", []))
        except Exception:  # noqa: BLE001 - any failure means "not ready yet"
            return 0
        finally:
            await admin.close()

    # A fresh thread, so this works whether or not the caller runs an event loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, describe()).result()


def reported_version(node_log: str) -> str:
    """The version a node printed at start-up (``Kafka version: 4.1.1``), for test reports."""
    try:
        text = Path(node_log).read_text(errors="replace")
    except OSError:
        return "unknown"
    marker = "Kafka version: "
    at = text.rfind(marker)
    return text[at + len(marker) :].split()[0] if at >= 0 else "unknown"


def ensure_kafka(
    home: Path,
    cache: Path,
    port: int = 9092,
    nodes: int = 1,
    log: Log = print,
    timeout: float = 120.0,
    security: NodeSecurity | None = None,
    proxied: ProxiedListener | None = None,
) -> KafkaCluster:
    """A running local Kafka of ``nodes`` combined broker/controller nodes on ports
    ``port .. port+nodes-1`` (controllers on ``port+100 ..``). Reuses nodes that already
    answer; starts the others and waits until the cluster reports every broker."""
    if proxied is not None and (nodes != 1 or security is not None):
        raise DevstackError("a proxied listener is for one plaintext node only")
    ports = tuple(port + i for i in range(nodes))
    controller_ports = tuple(port + 100 + i for i in range(nodes))
    bootstrap = ",".join(f"127.0.0.1:{p}" for p in ports)
    secure = security is not None
    client = security.client if security else None
    cluster = KafkaCluster(bootstrap, ports, home, secure=secure)

    def answers() -> bool:
        return all(port_open(p) for p in ports) and _describe_cluster(bootstrap, client) >= nodes

    if answers():
        log(f"kafka: reusing the broker(s) at {bootstrap}")
        return cluster
    libs = ensure_kafka_jars(cache, log)
    java_bin = java()
    base = home / _node_name(port, nodes, secure)
    base.mkdir(parents=True, exist_ok=True)
    log4j = base / "log4j2.yaml"
    log4j.write_text(_LOG4J2)
    id_file = base / "cluster.id"
    if not id_file.exists():
        id_file.write_text(_cluster_id())
    cluster_id = id_file.read_text().strip()
    heap = "512m" if nodes == 1 else "384m"
    waiting: list[ServiceProcess] = []
    with stop_on_failure(cluster.stop):
        for node_id in range(1, nodes + 1):
            node_port = ports[node_id - 1]
            name = _node_name(node_port, nodes, secure)
            previous = load_state(home, name)
            if previous is not None and previous.alive():
                waiting.append(previous)  # ours from an earlier call, still starting
                continue
            if port_open(node_port):
                raise DevstackError(f"port {node_port} is taken by something that is not our Kafka")
            node_dir = base / f"node-{node_id}"
            data = node_dir / "data"
            node_dir.mkdir(parents=True, exist_ok=True)
            props = node_dir / "server.properties"
            props.write_text(
                _server_properties(node_id, ports, controller_ports, data, security, proxied)
            )
            props.chmod(0o600)  # a secured node's file holds its SASL passwords
            cp = f"{libs}/*"
            if not (data / "meta.properties").exists():
                storage_tool = [java_bin, "-cp", cp, "kafka.tools.StorageTool"]
                subprocess.run(
                    [
                        *storage_tool,
                        *("format", "-t", cluster_id, "-c", str(props), "--ignore-formatted"),
                        *(security.format_args if security else ()),
                    ],
                    capture_output=True,
                    check=True,
                    env={**os.environ, "LOG_DIR": str(node_dir)},
                )
            argv = [
                java_bin,
                f"-Xmx{heap}",
                f"-Xms{heap}",
                *jvm_flags(),
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={log4j}",
                f"-Dkafka.logs.dir={node_dir}",
                "-cp",
                cp,
                "kafka.Kafka",
                str(props),
            ]
            log(f"kafka: starting node {node_id} on 127.0.0.1:{node_port}")
            cluster.started.append(spawn(home, name, argv, (node_port,), node_dir))
        wait_until(
            answers,
            f"Kafka at {bootstrap}",
            timeout,
            [*waiting, *cluster.started],
        )
        # Its internal topics are created and loaded now, not by the first client (whose
        # retries aiokafka logs as warnings): coordinators.py. In a fresh thread, as above.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, warm_within(bootstrap, client, timeout)).result()
    log(f"kafka: Apache Kafka {KAFKA_VERSION} ready at {bootstrap}")
    return cluster
