"""Redis from Debian's ``redis-server``: one instance, or a 3-master Redis Cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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

Log = Callable[[str], None]


def ensure_redis_installed(log: Log = print) -> tuple[str, str]:
    """Paths of ``redis-server`` and ``redis-cli``; installs Debian's package when root."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server and cli:
        return server, cli
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise DevstackError(
            "redis-server is not installed; install Debian's package: "
            "sudo apt-get install redis-server (or set EVENTGATE_REDIS_URL to a Redis you run)"
        )
    log("redis: installing Debian's redis-server (once)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "redis-server"]):
        result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise DevstackError(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if not (server and cli):
        raise DevstackError("redis-server was installed but is not on PATH")
    return server, cli


def _cli(cli: str, port: int, *args: str) -> str:
    result = subprocess.run(
        [cli, "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return result.stdout.strip()


def _pings(cli: str, port: int) -> bool:
    return port_open(port) and _cli(cli, port, "PING") == "PONG"


@dataclass
class RedisService:
    """A running local Redis (or Redis Cluster) and the processes this handle started."""

    url: str
    ports: tuple[int, ...]
    cluster: bool
    home: Path
    started: list[ServiceProcess] = field(default_factory=list)

    def stop(self, timeout: float = 30.0) -> None:
        for proc in reversed(self.started):
            stop(self.home, proc, timeout)
        self.started.clear()

    def processes(self) -> list[ServiceProcess]:
        found = (load_state(self.home, _name(p, self.cluster)) for p in self.ports)
        return [s for s in found if s is not None]


def _name(port: int, cluster: bool) -> str:
    return f"redis-cluster-{port}" if cluster else f"redis-{port}"


def ensure_redis(
    home: Path,
    port: int = 6379,
    cluster: bool = False,
    log: Log = print,
    timeout: float = 30.0,
    extra_args: tuple[str, ...] = (),
    aof: str | None = None,
) -> RedisService:
    """A running Redis on ``port`` (or a 3-master cluster on ``port .. port+2``, bus ports
    ``port+1000 ..``).

    ``aof`` turns the append-only file on with that ``appendfsync`` policy (``always``,
    ``everysec`` or ``no``), so a Redis killed and started again (call this again: a dead
    instance of ours is restarted on the same data folder) reloads its data. Off by
    default: the counters are derived data, and the test Redis need not survive."""
    if aof not in (None, "always", "everysec", "no"):
        raise DevstackError(f"appendfsync must be always, everysec or no, not {aof!r}")
    persistence = ["--appendonly", "no"] if aof is None else ["--appendonly", "yes"]
    if aof is not None:
        persistence += ["--appendfsync", aof, "--aof-use-rdb-preamble", "yes"]
    ports = (port, port + 1, port + 2) if cluster else (port,)
    url = f"redis://127.0.0.1:{port}/0"
    service = RedisService(url, ports, cluster, home)
    server, cli = ensure_redis_installed(log)
    if all(_pings(cli, p) for p in ports) and (not cluster or _cluster_ok(cli, port)):
        log(f"redis: reusing {'the cluster' if cluster else 'the server'} at {url}")
        return service
    waiting: list[ServiceProcess] = []
    with stop_on_failure(service.stop):
        for p in ports:
            name = _name(p, cluster)
            previous = load_state(home, name)
            if previous is not None and previous.alive():
                waiting.append(previous)
                continue
            if port_open(p):
                if _pings(cli, p) and not cluster:
                    continue
                raise DevstackError(f"port {p} is taken by something that is not our Redis")
            data = home / name
            data.mkdir(parents=True, exist_ok=True)
            argv = [
                server,
                "--port",
                str(p),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--save",
                "",
                *persistence,
                "--protected-mode",
                "no",
                "--daemonize",
                "no",
                *extra_args,
            ]
            if cluster:
                argv += [
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    f"nodes-{p}.conf",
                    "--cluster-node-timeout",
                    "5000",
                    # The bus port defaults to port+10000, inside Linux's ephemeral range
                    # for the test ports (27000 -> 37000), where a client's source port can
                    # hold it; port+1000 keeps it beside the cluster's own ports.
                    "--cluster-port",
                    str(p + 1000),
                ]
            log(f"redis: starting {name} on 127.0.0.1:{p}")
            service.started.append(spawn(home, name, argv, (p,), data))
        everyone = [*waiting, *service.started]
        wait_until(
            lambda: all(_pings(cli, p) for p in ports), f"Redis on {ports}", timeout, everyone
        )
        if cluster and not _cluster_ok(cli, port):
            if _cli(cli, port, "CLUSTER", "INFO").find("cluster_known_nodes:1") >= 0:
                nodes = [f"127.0.0.1:{p}" for p in ports]
                out = subprocess.run(
                    [
                        cli,
                        "--cluster",
                        "create",
                        *nodes,
                        "--cluster-replicas",
                        "0",
                        "--cluster-yes",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                )
                if out.returncode != 0:
                    raise DevstackError(
                        f"redis-cli --cluster create failed:\n{out.stdout}{out.stderr}"
                    )
            wait_until(
                lambda: all(_cluster_ok(cli, p) for p in ports), "Redis Cluster", timeout, everyone
            )
    log(f"redis: ready at {url}{' (cluster)' if cluster else ''}")
    return service


def _cluster_ok(cli: str, port: int) -> bool:
    return "cluster_state:ok" in _cli(cli, port, "CLUSTER", "INFO")


def redis_version(cli: str, port: int) -> str:
    for line in _cli(cli, port, "INFO", "server").splitlines():
        if line.startswith("redis_version:"):
            return line.split(":", 1)[1]
    return "unknown"
