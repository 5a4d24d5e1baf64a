"""A local Redis over TLS only, with ACL users: the secured counterpart of ``redis.py``.

``port 0`` and ``tls-port``: nothing answers in clear text. The certificate comes from the
local CA of ``certs.py`` (the one the secured Kafka uses). The ``default`` user is off;
``admin`` may do everything (for operators and test set-up); ``eventgate`` holds
:func:`eventgate_redis_acl`: its own keys and exactly the commands eventgate sends.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eventgate.devstack.certs import LocalCerts, ensure_certs, ensure_passwords
from eventgate.devstack.process import (
    DevstackError,
    ServiceProcess,
    load_state,
    port_open,
    spawn,
    stop,
    wait_until,
)
from eventgate.devstack.redis import ensure_redis_installed

Log = Callable[[str], None]

ADMIN_USER = "admin"
APP_USER = "eventgate"

# What the Python side sends: scripts by SHA (loaded on NOSCRIPT), the counters' and
# history's pipelined reads, the health checks' PING.
CLIENT_COMMANDS = ("evalsha", "script|load", "hget", "hmget", "lrange", "ping")
SCRIPTS = ("apply_batch", "apply_results", "roll", "clear_type")
_LUA_CALL = re.compile(r"""(?:redis\.p?call|chunked)\(\s*['"]([A-Za-z]+)['"]""")


def lua_commands() -> tuple[str, ...]:
    """The commands the counters' Lua scripts run: Redis checks a script's commands and
    keys against the ACLs of the user who called it."""
    from eventgate.counters.scripts import source

    found = {name.lower() for script in SCRIPTS for name in _LUA_CALL.findall(source(script))}
    return tuple(sorted(found))


def eventgate_redis_acl(topic_prefix: str = "eventgate.", cluster: bool = False) -> str:
    """The ACL rule of eventgate's Redis user (without its password): every key of
    eventgate carries the hash tag ``{<prefix>…}`` (``counters/keys.py``), so the key
    pattern is ``~{<prefix>*``; no channels; no command but those eventgate sends. A
    Redis Cluster client also reads the slot map (``CLUSTER SLOTS``)."""
    commands = sorted({*CLIENT_COMMANDS, *lua_commands(), *(("cluster|slots",) if cluster else ())})
    allowed = " ".join(f"+{c}" for c in commands)
    return f"on resetkeys ~{{{topic_prefix}* resetchannels -@all {allowed}"


def acl_file(passwords: dict[str, str], topic_prefix: str) -> str:
    """The ``aclfile`` of the local server: default off, admin all, eventgate restricted."""
    lines = ["user default off resetpass resetkeys -@all"]
    for user, password in passwords.items():
        if user == ADMIN_USER:
            lines.append(f"user {user} on >{password} ~* &* +@all")
        elif user == APP_USER:
            lines.append(f"user {user} {eventgate_redis_acl(topic_prefix)} >{password}")
        else:  # a user that may log in and nothing else (for refusal tests)
            lines.append(f"user {user} on >{password} resetkeys resetchannels -@all")
    return "\n".join(lines) + "\n"


@dataclass
class RedisTls:
    """A running TLS Redis, its CA and its users' passwords."""

    port: int
    certs: LocalCerts
    passwords: dict[str, str]
    home: Path
    started: list[ServiceProcess] = field(default_factory=list)

    def url(self, user: str = APP_USER) -> str:
        return f"rediss://{user}:{self.passwords[user]}@127.0.0.1:{self.port}/0"

    def settings_env(self, user: str = APP_USER) -> dict[str, str]:
        """The ``EVENTGATE_*`` variables that point eventgate at this Redis as ``user``."""
        return {
            "EVENTGATE_REDIS_URL": self.url(user),
            "EVENTGATE_REDIS_SSL_CAFILE": str(self.certs.ca_cert),
        }

    def stop(self) -> None:
        for proc in reversed(self.started):
            stop(self.home, proc)
        self.started.clear()


def _admin_pings(cli: str, service: RedisTls) -> bool:
    if not port_open(service.port):
        return False
    result = subprocess.run(
        [
            cli,
            *("--tls", "--cacert", str(service.certs.ca_cert)),
            *("-h", "127.0.0.1", "-p", str(service.port)),
            *("--user", ADMIN_USER, "--pass", service.passwords[ADMIN_USER], "--no-auth-warning"),
            "PING",
        ],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return result.stdout.strip() == "PONG"


def ensure_redis_tls(
    home: Path,
    port: int = 6380,
    *,
    users: tuple[str, ...] = (APP_USER,),
    topic_prefix: str = "eventgate.",
    log: Log = print,
    timeout: float = 30.0,
) -> RedisTls:
    """A running Redis on TLS port ``port`` (no clear-text port) with ACL users ``admin``
    and ``users``. Certificates and passwords live in ``{home}/security``."""
    folder = home / "security"
    certs = ensure_certs(folder)
    passwords = ensure_passwords(folder / "redis-users.json", (ADMIN_USER, *users))
    service = RedisTls(port, certs, passwords, home)
    server, cli = ensure_redis_installed(log)
    if _admin_pings(cli, service):
        log(f"redis: reusing the TLS server on 127.0.0.1:{port}")
        return service
    name = f"redis-tls-{port}"
    previous = load_state(home, name)
    if previous is not None and previous.alive():
        waiting = [previous]
    elif port_open(port):
        raise DevstackError(f"port {port} is taken by something that is not our TLS Redis")
    else:
        data = home / name
        data.mkdir(parents=True, exist_ok=True)
        acl = data / "users.acl"
        acl.write_text(acl_file(passwords, topic_prefix))
        acl.chmod(0o600)
        argv = [
            server,
            *("--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"),
            *("--tls-cert-file", str(certs.server_cert), "--tls-key-file", str(certs.server_key)),
            *("--tls-ca-cert-file", str(certs.ca_cert), "--tls-auth-clients", "no"),
            *("--aclfile", str(acl), "--dir", str(data)),
            *("--save", "", "--appendonly", "no", "--daemonize", "no"),
        ]
        log(f"redis: starting {name} (TLS only) on 127.0.0.1:{port}")
        service.started.append(spawn(home, name, argv, (port,), data))
        waiting = service.started
    wait_until(lambda: _admin_pings(cli, service), f"TLS Redis on {port}", timeout, waiting)
    log(f"redis: TLS ready at rediss://127.0.0.1:{port}/0")
    return service
