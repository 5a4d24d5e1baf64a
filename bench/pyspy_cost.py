"""What ``py-spy record --native`` costs a CPU-bound worker-like process, without Kafka.

A child process runs the ingest processor's pure stages (``hotpath_micro.run_stages``)
round after round inside uvloop, a few coroutines deep like the worker, and reports every
0.25 s how many events it has done and its thread CPU time. The parent alternates phases
without and with py-spy attached (``--rate`` Hz, ``--native``: the worker is paused while
its stack is unwound), and prints, per phase pair, the child's events per wall second and
CPU µs per event, the share of the time it was stopped (neither running nor runnable,
``/proc/<pid>/schedstat``: the pauses, whatever the load), and py-spy's own CPU.
Interleaving the phases cancels some of the drift of a shared machine; what is left shows
in the spread of the pairs.

Run: ``.venv/bin/python bench/pyspy_cost.py [--rate 100] [--pairs 4] [--seconds 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import cpusplit
from procs import cpu_seconds


def child(batch: int) -> int:
    import uvloop
    from hotpath_micro import build_snapshot, make_records, run_stages

    from eventgate.worker import tune_gc

    records = make_records(20_000)
    snapshot = build_snapshot(records)
    tune_gc()
    done = 0

    async def stage(depth: int) -> None:
        nonlocal done
        if depth:
            await stage(depth - 1)
            return
        polls = [records[i : i + batch] for i in range(0, len(records), batch)]
        while True:
            for poll in polls:
                run_stages(poll, snapshot, batch)
                done += len(poll)
                await asyncio.sleep(0)

    async def report() -> None:
        while True:
            print(f"{time.monotonic():.4f} {done} {time.thread_time():.4f}", flush=True)
            await asyncio.sleep(0.25)

    async def main() -> None:
        await asyncio.gather(stage(6), report())

    uvloop.run(main())
    return 0


def schedstat(pid: int) -> tuple[float, float]:
    """Seconds the process's main thread has run on a CPU and waited on a run queue
    (``/proc/<pid>/schedstat``): what is left of the wall time it was stopped or asleep."""
    on_cpu, waiting, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def at(samples: list[tuple[float, int, float]], when: float) -> tuple[float, float]:
    """Events done and CPU used by ``when``, interpolated between the reports around it."""
    before = (0.0, 0, 0.0)
    for t, n, cpu in samples:
        if t >= when:
            f = (when - before[0]) / (t - before[0]) if t > before[0] else 1.0
            return before[1] + f * (n - before[1]), before[2] + f * (cpu - before[2])
        before = (t, n, cpu)
    return float(before[1]), before[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--batch", type=int, default=3000)
    parser.add_argument(
        "--python-only",
        action="store_true",
        help="py-spy without --native, with --nonblocking (no pauses, no native frames)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.batch)
    binary = cpusplit.pyspy_binary()
    if binary is None:
        raise SystemExit("py-spy not found (pip install -r bench/requirements-profile.txt)")
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, this script
        [sys.executable, __file__, "--child", "--batch", str(args.batch)],
        stdout=subprocess.PIPE,
        text=True,
    )
    samples: list[tuple[float, int, float]] = []

    def read() -> None:
        assert proc.stdout is not None  # noqa: S101 - Popen(stdout=PIPE)
        for line in proc.stdout:
            t, n, cpu = line.split()
            samples.append((float(t), int(n), float(cpu)))

    threading.Thread(target=read, daemon=True).start()
    work = Path(__file__).parent / ".work" / "pyspy-cost"
    work.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[float, float, float, float, float]] = []
    try:
        while not samples or samples[-1][1] == 0:  # warmed up: a round done
            time.sleep(0.2)
        for pair in range(args.pairs):
            figures: dict[str, tuple[float, float]] = {}
            stopped: dict[str, float] = {}
            spy_cpu = 0.0
            for sampled in (False, True):
                sampler = None
                if sampled:
                    sampler = cpusplit.Sampler(
                        binary,
                        proc.pid,
                        args.rate,
                        work / f"{pair}.raw",
                        work / f"{pair}.log",
                        native=not args.python_only,
                    ).start()
                start, sched0 = time.monotonic(), schedstat(proc.pid)
                time.sleep(args.seconds)
                end, sched1 = time.monotonic(), schedstat(proc.pid)
                # CPU-bound: neither running nor runnable means stopped by py-spy
                runnable = (sched1[0] - sched0[0]) + (sched1[1] - sched0[1])
                stopped[str(sampled)] = max(0.0, 1 - runnable / (end - start))
                if sampler is not None and sampler.sampler_pid is not None:
                    spy_cpu = cpu_seconds(sampler.sampler_pid) or 0.0
                    sampler.stop()
                time.sleep(0.3)  # the reports of the phase's end are in
                (n0, c0), (n1, c1) = at(samples, start), at(samples, end)
                events = max(1.0, n1 - n0)
                figures[str(sampled)] = (events / (end - start), (c1 - c0) / events * 1e6)
            (plain_rate, plain_us), (spied_rate, spied_us) = figures["False"], figures["True"]
            rows.append((plain_rate, spied_rate, plain_us, spied_us, stopped["True"]))
            print(
                f"pair {pair + 1}: {plain_rate:,.0f} -> {spied_rate:,.0f} events/s"
                f" (x{spied_rate / plain_rate:.3f}), child CPU {plain_us:.1f} -> {spied_us:.1f}"
                f" µs/event, stopped {stopped['False']:.1%} -> {stopped['True']:.1%} of the"
                f" time, py-spy {spy_cpu / args.seconds:.2f} cores",
                flush=True,
            )
    finally:
        proc.terminate()
        proc.wait(10)
    ratios = [spied / plain for plain, spied, *_ in rows]
    paused = [row[4] for row in rows]
    mode = "--nonblocking" if args.python_only else "--native"
    print(
        f"py-spy {mode} at {args.rate} Hz: events/s x{statistics.median(ratios):.3f} median"
        f" (x{min(ratios):.3f}-x{max(ratios):.3f}), the child stopped"
        f" {statistics.median(paused):.1%} of the time (median; {min(paused):.1%}-"
        f"{max(paused):.1%}) over {len(rows)} pairs of {args.seconds:.0f} s;"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
