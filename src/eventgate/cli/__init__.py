"""The ``eventgate`` command line: ``eventgate --help`` lists the commands.

Exit codes scripts can trust: 0 success, 1 failure (refused by the API, unreachable
service…), 2 usage error, 3 not found.
"""

from eventgate.cli.main import main

__all__ = ["main"]
