#!/usr/bin/env bash
# Debian's Chromium for the console's browser tests (tests/integration/test_console_browser.py,
# driven by Playwright for Python with executable_path=/usr/bin/chromium; Playwright's own
# browser downloads are never used). Idempotent: does nothing when chromium is there.
#
# Without root (and without password-less sudo) it cannot install; it then says what to run:
#   sudo apt-get install --no-install-recommends chromium fonts-dejavu-core
set -euo pipefail

if [ -n "${CONSOLE_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
  else
    echo "ensure-chromium: Chromium is missing and this user cannot install it." >&2
    echo "  run: sudo apt-get install --no-install-recommends chromium fonts-dejavu-core" >&2
    echo "  (or point CONSOLE_CHROMIUM at a Chromium binary)" >&2
    exit 1
  fi
fi

echo "ensure-chromium: installing Debian's chromium (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version
