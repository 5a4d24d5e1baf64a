"""Regenerate docs/images/console-list.png, the README's picture of the console.

It runs the browser test of the list (tests/integration/test_console_browser.py) with
``CONSOLE_README_SCREENSHOT=1``: a whole stack on the test Kafka and Redis, seeded with
≥ 20 event types of every category, status and kind of dependency, in headless Chromium.

    .venv/bin/python scripts/console_screenshot.py

Needs what ``make test`` needs (Debian's chromium: scripts/ensure-chromium.sh).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_FILE = "tests/integration/test_console_browser.py"
TEST = f"{TEST_FILE}::test_list_shows_every_kind_of_type_with_its_columns"


def main() -> int:
    env = {**os.environ, "CONSOLE_README_SCREENSHOT": "1"}
    done = subprocess.run(  # noqa: S603 - our own test runner, fixed arguments
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
        cwd=ROOT,
        env=env,
        check=False,
    )
    if done.returncode == 0:
        print(f"wrote {ROOT / 'docs' / 'images' / 'console-list.png'}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
