"""The ``eventgate`` command line against a running stack: every command's --help, types
and rules through the API, send with progress, dlq replay, exit codes scripts rely on."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from stack import running_up

COMMANDS = [
    [],
    ["up"],
    ["worker"],
    ["api"],
    ["types"],
    ["types", "list"],
    ["types", "show"],
    ["types", "create"],
    ["types", "delete"],
    ["rules"],
    ["rules", "set"],
    ["send"],
    ["dlq"],
    ["dlq", "replay"],
    ["counters"],
    ["counters", "rebuild"],
    ["topics"],
    ["topics", "create"],
    ["bench"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "eventgate")
def test_every_command_has_help(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eventgate", *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: eventgate")


def test_usage_errors_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eventgate", "types", "frobnicate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


async def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "eventgate", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


async def test_operator_commands_against_a_running_stack(
    services: Any, prefix: str, tmp_path: Path
) -> None:
    async with running_up(services, prefix, tmp_path) as up:
        env = {**up.env, "EVENTGATE_CLI_API_URL": up.api_url, "EVENTGATE_CLI_TOKEN": up.token}

        code, out, _ = await _cli(
            env, "types", "create", "signup", "--name", "Signup", "--category", "subscribe"
        )
        assert (code, out.strip()) == (0, "created signup (version 1)")
        code, _, err = await _cli(env, "types", "create", "signup", "--name", "Again")
        assert code == 1 and "signup" in err and "409" in err

        rules = tmp_path / "rules.json"
        rules.write_text(json.dumps([{"name": "plan", "required": True, "type": "string"}]))
        code, out, _ = await _cli(env, "rules", "set", "signup", str(rules))
        assert (code, out.strip()) == (0, "validation of signup on")
        hostile = {"type": "object", "properties": {"a": {"$ref": "http://evil.example/x"}}}
        code, _, err = await _cli(env, "rules", "set", "signup", "-", stdin=json.dumps(hostile))
        assert code == 1 and "422" in err and "$ref" in err

        code, out, err = await _cli(
            env, "send", "--count", "300", "--type", "signup", "--seed", "1"
        )
        assert code == 0 and "sent 300 events" in out
        assert "300/300" in err  # the progress bar reached the end

        async with asyncio.timeout(60):
            while True:
                code, out, _ = await _cli(env, "types", "list", "--json")
                rows = {row["key"]: row for row in json.loads(out)["items"]}
                if rows.get("signup", {}).get("rejected24h") == 300:
                    break
                await asyncio.sleep(0.5)
        assert rows["signup"]["volume24h"] == 300  # samples lack 'plan': all rejected

        code, out, _ = await _cli(env, "types", "list")
        assert code == 0 and out.splitlines()[0].split()[:3] == ["KEY", "NAME", "CATEGORY"]
        code, out, _ = await _cli(env, "types", "show", "signup")
        assert code == 0 and json.loads(out)["validation"]["enabled"] is True
        code, _, err = await _cli(env, "types", "show", "nope")
        assert code == 3 and "404" in err

        code, out, _ = await _cli(env, "dlq", "replay", "--type", "signup", "--dry-run")
        assert code == 0 and "would replay 300" in out
        code, out, _ = await _cli(env, "dlq", "replay", "--since", "not a time")
        assert code == 2

        code, out, _ = await _cli(env, "types", "delete", "signup")
        assert code == 0 and "deleted signup" in out
        code, _, _ = await _cli(env, "types", "show", "signup")
        assert code == 3
