"""Start, find and stop the local service processes that the launcher owns.

Each started process gets a state file (``{home}/state/{name}.json``: pid, ports, log) so a
second ``up`` reuses it and ``down`` stops it, even from another shell.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path


class DevstackError(RuntimeError):
    """A local service could not be installed, started or reached."""


@dataclass(frozen=True)
class ServiceProcess:
    """One process the launcher started."""

    name: str
    pid: int
    ports: tuple[int, ...]
    log: str

    def alive(self) -> bool:
        return pid_alive(self.pid)


def default_home() -> Path:
    """Where state and logs live: ``$DEVSTACK_HOME`` or ``./.devstack``."""
    return Path(os.environ.get("DEVSTACK_HOME", ".devstack")).resolve()


def default_cache() -> Path:
    """Where downloaded artefacts live: ``$DEVSTACK_CACHE`` or ``~/.cache/eventgate-devstack``."""
    return Path(
        os.environ.get("DEVSTACK_CACHE", Path.home() / ".cache" / "eventgate-devstack")
    ).resolve()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); look at its state where /proc exists.
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().split(")")[-1].split()[0] != "Z"
    return True


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _state_file(home: Path, name: str) -> Path:
    return home / "state" / f"{name}.json"


def load_state(home: Path, name: str) -> ServiceProcess | None:
    path = _state_file(home, name)
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return ServiceProcess(raw["name"], raw["pid"], tuple(raw["ports"]), raw["log"])


def all_states(home: Path) -> list[ServiceProcess]:
    folder = home / "state"
    if not folder.is_dir():
        return []
    found = (load_state(home, p.stem) for p in sorted(folder.glob("*.json")))
    return [s for s in found if s is not None]


# Services outlive the command that starts them (``make services``, then ``make test``), so
# they are not our children: a shell starts each in its own session (``setsid``) in the
# background and exits, handing the process to init. Nothing here then waits on a child,
# and a Ctrl-C in the terminal reaches a service only through the launcher's ``stop``.
_DETACH = 'log="$1"; shift; setsid "$@" </dev/null >>"$log" 2>&1 & echo $!'


def spawn(
    home: Path,
    name: str,
    argv: Sequence[str],
    ports: Sequence[int],
    cwd: Path,
    env: dict[str, str] | None = None,
) -> ServiceProcess:
    """Start ``argv`` detached in a session of its own, logging to
    ``{home}/logs/{name}.log``, and record its state."""
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}.log"
    started = subprocess.run(
        ["/bin/sh", "-c", _DETACH, "sh", str(log_path), *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode != 0 or not started.stdout.strip().isdigit():
        raise DevstackError(f"could not start {name}: {started.stderr.strip()}")
    service = ServiceProcess(name, int(started.stdout.strip()), tuple(ports), str(log_path))
    state = _state_file(home, name)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(asdict(service)))
    return service


def stop(home: Path, service: ServiceProcess, timeout: float = 30.0) -> None:
    """SIGTERM the service's process group, SIGKILL it after ``timeout``; forget its state."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(service.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while service.alive() and time.monotonic() < deadline:
        _reap(service.pid)
        time.sleep(0.1)
    if service.alive():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(service.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10  # SIGKILL is not instant: gone when we return
        while service.alive() and time.monotonic() < deadline:
            _reap(service.pid)
            time.sleep(0.05)
    _state_file(home, service.name).unlink(missing_ok=True)


def _reap(pid: int) -> None:
    """Collect ``pid`` if it happens to be our child (services started by an older launcher)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def log_tail(path: str, lines: int = 30) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


STARTING_GRACE_S = 5.0  # SIGTERM to SIGKILL for a service stopped before it was ready


@contextlib.contextmanager
def stop_on_failure(stop_started: Callable[[float], None]) -> Iterator[None]:
    """Around starting services: if starting fails or is interrupted (Ctrl-C while ``make
    up`` waits), stop what was started — the caller gets no handle to stop it with. A
    service that never got ready has nothing to shut down cleanly: a short grace."""
    try:
        yield
    except BaseException:
        stop_started(STARTING_GRACE_S)
        raise


def wait_until(
    check_ready: Callable[[], bool],
    what: str,
    timeout: float,
    services: Sequence[ServiceProcess] = (),
) -> None:
    """Poll ``check_ready()`` until true; fail early with the log tail if a service died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for service in services:
            if not service.alive():
                raise DevstackError(
                    f"{service.name} exited while starting; its log ({service.log}) ends:\n"
                    + log_tail(service.log)
                )
        if check_ready():
            return
        time.sleep(0.3)
    tails = "\n".join(f"--- {s.log}\n{log_tail(s.log)}" for s in services)
    raise DevstackError(f"{what} did not answer within {timeout:.0f} s\n{tails}")
