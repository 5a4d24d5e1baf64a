"""Liveness and readiness: ``/healthz`` (the process runs) and ``/readyz`` (it can work)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Check = Callable[[], Awaitable[str | None]]
"""A readiness check: returns None when fine, else a short reason."""


@dataclass
class Readiness:
    checks: dict[str, Check] = field(default_factory=dict)
    timeout_s: float = 2.0

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def evaluate(self) -> dict[str, str]:
        """Every failing check's reason, by name (empty when ready)."""

        timeout = self.timeout_s

        async def run(check: Check) -> str | None:
            try:
                async with asyncio.timeout(timeout):
                    return await check()
            except TimeoutError:
                return f"no answer within {timeout:.0f} s"
            except Exception as exc:  # noqa: BLE001 - a failing check is a reason, not a crash
                return f"{type(exc).__name__}: {exc}"

        names = list(self.checks)
        results = await asyncio.gather(*(run(self.checks[n]) for n in names))
        return {name: reason for name, reason in zip(names, results, strict=True) if reason}


async def probe(ping: Callable[[], Awaitable[object]], timeout_s: float) -> bool:
    """True if ``ping`` answers within ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s):
            await ping()
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True


async def watch(
    ping: Callable[[], Awaitable[object]],
    report: Callable[[bool], None],
    interval_s: float,
    timeout_s: float = 2.0,
) -> None:
    """Forever: ``report(probe(ping))`` every ``interval_s`` (the Redis-reachable gauge)."""
    while True:
        report(await probe(ping, timeout_s))
        await asyncio.sleep(interval_s)
