"""Prometheus for the observability tests: Debian's ``prometheus`` package (``prometheus``
and ``promtool``). ``make test`` installs it through ``scripts/ensure-prometheus.sh``; run
as root, :func:`prometheus_binaries` runs that script itself when a binary is missing.
Otherwise the tests skip, naming the package to install."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENSURE = ROOT / "scripts" / "ensure-prometheus.sh"


def prometheus_binaries() -> tuple[str, str]:
    """(prometheus, promtool) paths, or skip the test."""

    def found() -> tuple[str, str] | None:
        prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
        return (prometheus, promtool) if prometheus and promtool else None

    binaries = found()
    if binaries is None and os.geteuid() == 0:
        subprocess.run(["bash", str(ENSURE)], check=True)
        binaries = found()
    if binaries is None:
        pytest.skip(
            "Debian package `prometheus` is not installed (needs prometheus and promtool): "
            "run `sudo scripts/ensure-prometheus.sh` or "
            "`sudo apt-get install --no-install-recommends prometheus`"
        )
    return binaries
