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


def _status_kib(pid: int, field_name: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return None


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
