"""The bench's output: the printed table, the ratios and targets, the JSON result and the
PNG plot (throughput bars, latency percentiles) under ``bench/results``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import cpusplit

TARGETS = {
    "vsQuix": 1.2,
    "vsFaust": 20.0,
    "eventsPerS": 60_000,
    "p99MsAt20k": 50.0,
}


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return round(sorted_values[index], 1)


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def ratios(drain: list[dict[str, Any]]) -> dict[str, float | None]:
    def rate(system: str) -> float | None:
        for row in drain:
            if row["system"] == system and row.get("eventsPerS"):
                return float(row["eventsPerS"])
        return None

    eg = rate("eventgate")
    out: dict[str, float | None] = {}
    pairs = (
        ("vsQuix", "quix-eos"),
        ("vsFaust", "faust-naive"),
        ("vsFloor", "floor"),
        ("vsQuixNoState", "quix-eos-nostate"),
    )
    for key, peer in pairs:
        other = rate(peer)
        out[key] = round(eg / other, 3) if eg and other else None
    return out


def row_name(d: dict[str, Any]) -> str:
    name = str(d["system"]) + (f" x{d['workers']}" if d.get("workers") else "")
    return name + (f" {d['variant']}" if d.get("variant") else "")


def profile_overhead(drain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What py-spy cost each sampled drain against the plain drain of the same worker count
    just before it (one pair: read it against the run-to-run noise)."""

    def us(d: dict[str, Any], who: str) -> float | None:
        value = d.get("cpu", {}).get("usPerEvent", {}).get(who)
        return None if value is None else float(value)

    out = []
    eventgate = [d for d in drain if d["system"] == "eventgate"]
    for sampled in (d for d in eventgate if d.get("variant") == "sampled"):
        plain = next(
            (d for d in eventgate if not d.get("variant") and d["workers"] == sampled["workers"]),
            None,
        )
        if plain is None or not plain.get("eventsPerS") or not sampled.get("eventsPerS"):
            continue
        out.append(
            {
                "workers": plain["workers"],
                "plainEventsPerS": plain["eventsPerS"],
                "sampledEventsPerS": sampled["eventsPerS"],
                "ratio": round(sampled["eventsPerS"] / plain["eventsPerS"], 3),
                "plainWorkerUsPerEvent": us(plain, "workers"),
                "sampledWorkerUsPerEvent": us(sampled, "workers"),
                "pyspyUsPerEvent": us(sampled, "py-spy"),
            }
        )
    return out


def incomplete(result: dict[str, Any]) -> str | None:
    """Why eventgate's drain figure does not count, if it does not: a run that did not
    emit every expected command did less work than its peers."""
    eg = next((d for d in result["drain"] if d["system"] == "eventgate"), None)
    if eg is None:
        return None
    seen, expected = eg.get("commandsSeen"), eg.get("commandsExpected")
    if seen != expected:
        return f"eventgate emitted {_fmt(seen)} of {_fmt(expected)} expected commands"
    return None


def verdicts(result: dict[str, Any]) -> dict[str, str]:
    r = result["ratios"]
    out: dict[str, str] = {}
    why_not = incomplete(result)

    def judge(value: float | None, target: float, higher: bool = True) -> str:
        if value is None:
            return "not measured"
        if why_not is not None:
            return f"NOT COMPARABLE ({value:,.3g}; {why_not})"
        ok = value >= target if higher else value <= target
        return f"{'PASS' if ok else 'FAIL'} ({value:,.3g} vs {target:,.3g})"

    out["eventgate/quix >= 1.2"] = judge(r.get("vsQuix"), TARGETS["vsQuix"])
    out["eventgate/faust >= 20"] = judge(r.get("vsFaust"), TARGETS["vsFaust"])
    eg = next((d for d in result["drain"] if d["system"] == "eventgate"), None)
    out["eventgate >= 60k events/s"] = judge(
        eg["eventsPerS"] if eg else None, TARGETS["eventsPerS"]
    )
    p99 = next(
        (
            row["p99Ms"]
            for row in result["latency"]
            if row["system"] == "eventgate" and row["rate"] == 20_000
        ),
        None,
    )
    out["eventgate p99 <= 50 ms at 20k/s"] = judge(p99, TARGETS["p99MsAt20k"], higher=False)
    return out


def table(result: dict[str, Any]) -> str:
    lines: list[str] = []
    m = result["machine"]
    lines.append(
        f"machine: {m['cpus']} cpus ({m['cpuModel']}), {m['memGiB']} GiB, Python {m['python']},"
        f" Kafka {m['kafka']} ({m.get('kafkaNodes', 1)} node(s), local,"
        f" JIT {m.get('kafkaJit', '?')}),"
        f" Redis {m['redis']} (local);"
        f" load avg before {m['loadBefore']}"
    )
    w = result["workload"]
    lines.append(
        f"workload: {w['events']:,} pre-filled events over {w['partitions']} partitions,"
        f" {w['eventTypes']} types ({w['withValidation']} validated, {w['withWorkflows']} with"
        f" workflows), {w['sizes']['mean']:.0f} B mean, {w['invalidCount']} invalid,"
        f" {w['expectedCommands']:,} commands expected; pre-fill "
        f"{result['prefill']['eventsPerS']:,.0f} events/s (not timed against anyone)"
    )
    lines.append("")
    header = (
        f"{'drain (pre-filled ingest)':<28}{'events':>9}{'seconds':>9}{'events/s':>11}"
        f"{'peak RSS MiB':>14}{'commands':>18}  note"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for d in result["drain"]:
        name = row_name(d)
        seen = d.get("commandsSeen")
        expected = d.get("commandsExpected")
        commands = "-" if seen is None else f"{seen:,}/{_fmt(expected)}"
        lines.append(
            f"{name:<28}{_fmt(d.get('events')):>9}{_fmt(d.get('seconds'), 2):>9}"
            f"{_fmt(d.get('eventsPerS')):>11}{_fmt(d.get('peakRssMiB'), 1):>14}{commands:>18}"
            f"  {d.get('note', '')}"
        )
    for d in result["drain"]:
        if d.get("cpu"):
            name = row_name(d)
            split = ", ".join(
                f"{who} {us} µs ({d['cpu']['busyCores'][who]} cores)"
                for who, us in d["cpu"]["usPerEvent"].items()
            )
            lines.append(
                f"  CPU per event, {name}: {split}; machine {d['cpu']['machineBusy']:.0%} busy"
            )
            if d["cpu"].get("split"):
                lines.append(cpusplit.summary_line(name, d["cpu"]["split"]))
    for o in result.get("profileOverhead", []):
        lines.append(
            f"  py-spy's cost, x{o['workers']} (plain drain, then sampled, same topic):"
            f" {o['plainEventsPerS']:,} -> {o['sampledEventsPerS']:,} events/s"
            f" (x{o['ratio']}), worker CPU {_fmt(o['plainWorkerUsPerEvent'], 1)} ->"
            f" {_fmt(o['sampledWorkerUsPerEvent'], 1)} µs/event, py-spy itself"
            f" {_fmt(o['pyspyUsPerEvent'], 1)} µs/event"
        )
    lines.append("")
    header = (
        f"{'latency (paced producer)':<20}{'rate':>8}{'achieved':>10}{'matched':>9}"
        f"{'p50 ms':>10}{'p99 ms':>10}{'p99.9 ms':>10}{'commit p50/p99':>16}{'max lag':>9}  note"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for row in result["latency"]:
        commit = f"{_fmt(row.get('commitP50Ms'))}/{_fmt(row.get('commitP99Ms'))}"
        lines.append(
            f"{row['system']:<20}{_fmt(row['rate']):>8}{_fmt(row.get('achievedRate')):>10}"
            f"{_fmt(row.get('matched')):>9}{_fmt(row.get('p50Ms'), 1):>10}"
            f"{_fmt(row.get('p99Ms'), 1):>10}{_fmt(row.get('p999Ms'), 1):>10}{commit:>16}"
            f"{_fmt(row.get('maxLag')):>9}  {row.get('note', '')}"
        )
    lines.append("")
    r = result["ratios"]
    lines.append(
        "ratios (drain events/s, same run, same input): "
        f"eventgate/quix = {_fmt(r.get('vsQuix'), 3)}, "
        f"eventgate/faust = {_fmt(r.get('vsFaust'), 2)}, "
        f"eventgate/floor = {_fmt(r.get('vsFloor'), 3)}"
        + (
            f" (informational: eventgate/quix-without-state = {_fmt(r['vsQuixNoState'], 3)})"
            if r.get("vsQuixNoState")
            else ""
        )
    )
    for what, verdict in result["verdicts"].items():
        lines.append(f"  {what:<36} {verdict}")
    if result.get("redis"):
        lines.append(f"redis: {result['redis']}")
    for problem in result.get("problems", []):
        lines.append(f"problem: {problem}")
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    drain = [d for d in result["drain"] if d.get("eventsPerS") and not d.get("variant")]
    names = [row_name(d) for d in drain]
    rates = [d["eventsPerS"] for d in drain]
    colours = ["#d62728" if d["system"] == "eventgate" else "#7f7f7f" for d in drain]
    bars = left.bar(names, rates, color=colours)
    left.set_yscale("log")
    left.set_ylabel("events/s (log scale)")
    left.set_title("Drain throughput, pre-filled ingest")
    left.axhline(60_000, color="#2ca02c", linestyle="--", linewidth=1, label="target 60k/s")
    left.legend(loc="upper right")
    left.set_ylim(top=max(rates, default=1) * 4)
    for bar, value in zip(bars, rates, strict=True):
        left.annotate(
            f"{value:,.0f}",
            (bar.get_x() + bar.get_width() / 2, value),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    left.tick_params(axis="x", labelrotation=20)

    rows = result["latency"]
    labels = [f"{r['system']}\n{r['rate'] // 1000}k/s" for r in rows]
    width = 0.27
    xs = range(len(rows))
    any_value = False
    for n, (key, label) in enumerate((("p50Ms", "p50"), ("p99Ms", "p99"), ("p999Ms", "p99.9"))):
        values = [r.get(key) or 0 for r in rows]
        any_value = any_value or any(values)
        right.bar([x + (n - 1) * width for x in xs], values, width, label=label)
    for x, r in zip(xs, rows, strict=True):
        if r.get("p50Ms") is None:
            text = "skipped" if "sustained" not in r else "no commands\nvisible"
            right.annotate(text, (x, 1), ha="center", va="bottom", fontsize=8, color="#d62728")
        elif not r.get("sustained", True):
            top = r.get("p999Ms") or 1
            right.annotate("rate not\nsustained", (x, top), ha="center", va="bottom", fontsize=7)
    right.set_xticks(list(xs), labels, fontsize=8)
    if any_value:
        right.set_yscale("log")
    right.set_ylabel("ms: ingest timestamp -> command visible (read_committed)")
    if any_value:
        right.set_ylim(bottom=10, top=max((r.get("p999Ms") or 1) for r in rows) * 4)
    right.axhline(50, color="#2ca02c", linestyle="--", linewidth=1, label="p99 target 50 ms")
    right.set_title("End-to-end latency at fixed rates")
    right.legend(loc="upper left", fontsize=8)
    m = result["machine"]
    fig.suptitle(
        f"eventgate bench {result['startedAt']} - {m['cpus']} cpus, Kafka {m['kafka']} and"
        f" Redis local - ratios: /quix {_fmt(result['ratios'].get('vsQuix'), 2)},"
        f" /faust {_fmt(result['ratios'].get('vsFaust'), 1)},"
        f" /floor {_fmt(result['ratios'].get('vsFloor'), 3)}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write(result: dict[str, Any], folder: Path, stamp: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    json_path = folder / f"{stamp}.json"
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    shutil.copyfile(json_path, folder / "latest.json")
    written += [json_path, folder / "latest.json"]
    png_path = folder / f"{stamp}.png"
    if plot(result, png_path):
        shutil.copyfile(png_path, folder / "latest.png")
        written += [png_path, folder / "latest.png"]
    return written
