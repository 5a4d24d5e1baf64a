"""Processes the harness starts (eventgate workers, peer applications): started in their
own session with a log file, their peak RSS read from ``/proc`` (``VmHWM``), stopped by
pid with SIGTERM, then SIGKILL after a deadline. Nothing here matches processes by name."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _status_kib(pid: int, field_name: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return None


_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (``/proc/{pid}/stat``), or None
    once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces
    return (int(fields[11]) + int(fields[12])) * _TICK_S  # utime, stime (fields 14, 15)


def cpu_split(
    groups: dict[str, list[int]], before: dict[str, float], events: int, seconds: float
) -> dict[str, Any]:
    """CPU µs per event of each group of processes since ``before`` (taken with
    ``cpu_totals``), and the share of the machine's cores they kept busy."""
    after = cpu_totals(groups)
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    cores = os.cpu_count() or 1
    return {
        "usPerEvent": {name: round(s * 1e6 / events, 1) for name, s in used.items()},
        "busyCores": {name: round(s / seconds, 2) for name, s in used.items()},
        "machineBusy": round(sum(used.values()) / seconds / cores, 2),
    }


def cpu_totals(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far by each named group of processes."""
    return {name: sum(cpu_seconds(pid) or 0.0 for pid in pids) for name, pids in groups.items()}


@dataclass
class Proc:
    name: str
    argv: Sequence[str]
    log: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = None
    peak_rss_kib: int = 0
    rss_kib: int = 0
    started_at: float = 0.0
    _tail_from: int = field(default=0, repr=False)

    def start(self) -> Proc:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self._tail_from = out.tell()
            self.popen = subprocess.Popen(  # noqa: S603 - our own interpreters and scripts
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was not started")
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def sample(self) -> None:
        """Refresh the peak (kernel high-water mark) and current RSS while it runs."""
        if not self.alive():
            return
        peak = _status_kib(self.pid, "VmHWM")
        now = _status_kib(self.pid, "VmRSS")
        if peak is not None:
            self.peak_rss_kib = max(self.peak_rss_kib, peak)
        if now is not None:
            self.rss_kib = now

    @property
    def peak_rss_mib(self) -> float:
        return round(self.peak_rss_kib / 1024, 1)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM its process group, SIGKILL after ``timeout``; returns the exit code."""
        if self.popen is None:
            return None
        self.sample()
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        return self.popen.returncode

    def tail(self, lines: int = 25) -> str:
        try:
            with self.log.open("rb") as f:
                f.seek(self._tail_from)
                text = f.read().decode(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
