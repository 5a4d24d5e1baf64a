#!/usr/bin/env bash
# Debian's prometheus (prometheus + promtool) for the observability tests
# (tests/integration/test_observability.py): a real Prometheus scrapes a running eventgate
# stack, and promtool checks deploy/prometheus/. Idempotent: does nothing when both binaries
# are there. The package's own service is never used (the tests start Prometheus
# themselves, on a free port, with a temporary config and data directory). Where an init
# system runs, the package starts its service on :9090 after install; stop it with
# `systemctl disable --now prometheus` if you do not want it.
#
# Without root (and without password-less sudo) it cannot install; it then says what to run:
#   sudo apt-get install --no-install-recommends prometheus
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
  else
    echo "ensure-prometheus: Prometheus is missing and this user cannot install it." >&2
    echo "  run: sudo apt-get install --no-install-recommends prometheus" >&2
    exit 1
  fi
fi

echo "ensure-prometheus: installing Debian's prometheus (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
prometheus --version | head -1
promtool --version | head -1
