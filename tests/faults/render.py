"""Render a fault-suite results file as the markdown table of ``docs/faults.md``.

``pytest tests/faults --faults-scale=full`` calls :func:`render_doc` at the end; by hand:
``.venv/bin/python tests/faults/render.py tests/faults/results/latest-full.json docs/faults.md``.
Only the part between the two markers below is replaced, so the doc's prose stays.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

START = "<!-- fault-results:start -->"
END = "<!-- fault-results:end -->"
COLUMNS = (
    "scenario",
    "events",
    "lost",
    "duplicates",
    "counter error",
    "rejects by reason",
    "registry",
    "worker crashes",
    "recovery s",
    "run s",
    "notes",
)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(payload: dict[str, Any]) -> str:
    """The results table (markdown) of one results file."""
    lines = [
        f"Scale `{payload['scale']}`, last scenario finished {payload['finished']}.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for s in payload["scenarios"]:
        extra = ", ".join(f"{k} {v}" for k, v in s.get("extra", {}).items())
        notes = "; ".join(x for x in (s.get("notes", ""), extra) if x)
        recovery = "—" if s["recovery_s"] is None else s["recovery_s"]
        row = (
            s["scenario"],
            f"{s['events']:,}",
            s["lost"],
            s["duplicates"] + s["unexpected"],
            s["counter_error"],
            "exact" if s["reasons_ok"] else "WRONG",
            "consistent" if s["registry_ok"] else "WRONG",
            s["worker_crashes"],
            recovery,
            s["duration_s"],
            notes or "",
        )
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(lines)


def render_doc(payload: dict[str, Any], doc: Path) -> None:
    """Put the table between the markers of ``doc`` (appending the markers if absent)."""
    text = doc.read_text() if doc.exists() else ""
    block = f"{START}\n{table(payload)}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text)


if __name__ == "__main__":
    render_doc(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
