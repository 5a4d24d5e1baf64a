"""Where a worker's CPU goes during a drain, by component: py-spy samples of its Python and
native frames, each sample given to one component, the shares turned into CPU µs per event
with the worker's CPU time measured from ``/proc`` over the same window.

The sampler is ``py-spy record --native --format raw``: every sample is one collapsed stack
(outermost frame first) of a thread that was running or runnable, idle threads left out
(py-spy's default), so the samples are a draw from the worker's CPU time (plus its waits
for a core on a busy machine: ``coverage`` says how much), not from its wall time.

**Which component a sample belongs to.** Its frames are read from the innermost outwards;
the first frame that has an owner decides (rules in ``frame_owner``):

- ``kernel``: a native frame of the ``eventgate._kernel`` extension (its ``.so`` or a Rust
  symbol of the crate), or a frame of one of the pure-stage Python modules (``PURE``), the
  Python that the kernel replaces. The row reads "kernel" when the worker has the
  extension loaded (``/proc/<pid>/maps``), else "pure stages";
- ``aiokafka consume``: ``aiokafka.consumer``, ``aiokafka.coordinator``, the record readers
  (``aiokafka.record`` outside its builders, and their Cython ``_crecords``), fetch and
  offset-commit protocol;
- ``aiokafka produce + transactions``: ``aiokafka.producer`` (producer, accumulator,
  ``BatchBuilder``, sender, transaction manager), the record batch builders, produce and
  transaction protocol, aiokafka's partitioner, ``eventgate.ingest.producing``;
- ``Redis client``: ``redis`` (redis-py) and ``hiredis``;
- ``event loop``: ``asyncio``, ``selectors``, ``uvloop`` and libuv, the C ``_asyncio`` task
  machinery: what schedules the coroutines, and the poll when it costs CPU;
- ``other``: everything else that owns a frame, itemised in its ``detail``: eventgate's
  own glue (processor, counters store, registry state, metrics...), ``logging``,
  ``prometheus_client``, the garbage collector (CPython's collection functions, which
  win over the Python frame whose allocation triggered them), and samples with no owner.

Frames with no owner are transparent and pass the sample outwards: the interpreter and
libc, orjson, hashlib, fastjsonschema's generated code, re2, the stdlib outside asyncio and
logging. So ``orjson.loads`` called by ``decode.py`` counts for the pure stages, and by the
processor for "other". Two kinds of owner are weak (``classify``): eventgate's glue modules
give way to a pure stage further out (a helper of ``counters/encode`` counts for it);
aiokafka's shared modules (``conn``, ``client``, ``cluster``, ``protocol`` structs and
types, ``codec``, ``util``) serve both directions, so they give way to a consume or produce
frame further out, and a sample whose next owner outwards is only the event loop (a
connection's read loop runs as its own task) goes to ``aiokafka (either side)``, its own
row, rather than to a guessed direction.

**Precision.** A share ``p`` from ``n`` samples has a binomial standard error
``sqrt(p (1 - p) / n)``; the table prints the 95 % half-width of the largest component and
the JSON keeps one per component. py-spy's own CPU is measured like the workers' and shown
beside them. It pauses the worker ``rate`` times a second to unwind its native stack
(4-8 ms each on this shared machine, ``pyspy_cost.py``), so ``run.py`` samples a second
drain of the same topic, after the plain one that counts, and prints what the sampler cost
between the two.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procs import Proc

KERNEL = "kernel"
CONSUME = "aiokafka consume"
PRODUCE = "aiokafka produce + transactions"
AIOKAFKA_SHARED = "aiokafka (either side)"
REDIS = "Redis client"
LOOP = "event loop"
OTHER = "other"
COMPONENTS = (KERNEL, CONSUME, PRODUCE, AIOKAFKA_SHARED, REDIS, LOOP, OTHER)

# The pure-stage Python modules (what the kernel takes over), as package paths.
PURE = re.compile(
    r"^eventgate/(?:"
    r"ingest/(?:decode|fields|rfc3339|decide|outputs|registry_requests|partitioner|validators)"
    r"\.py|validation/.+|registry/structure[^/]*\.py|counters/encode\.py)$"
)
KERNEL_SO = re.compile(r"(?:^|/)eventgate/_kernel[.\w-]*\.so$")
KERNEL_SYMBOL = re.compile(r"(?:^|[^\w])(?:_kernel|eventgate_kernel)::")
KERNEL_SOURCE = re.compile(r"/kernel/src/.+\.rs$")
# CPython's collector (3.11-3.13 names): these win over the frame that allocated.
GC_FUNCTIONS = frozenset(
    {
        "gc_collect_main",
        "gc_collect_with_callback",
        "gc_collect_generations",
        "gc_collect_region",
        "gc_collect_young",
        "gc_collect_full",
        "gc_collect_increment",
        "_PyGC_Collect",
        "PyGC_Collect",
        "_Py_RunGC",
        "deduce_unreachable",
        "move_unreachable",
        "subtract_refs",
        "update_refs",
        "visit_reachable",
        "visit_decref",
        "move_legacy_finalizers",
        "handle_weakrefs",
        "delete_garbage",
        "finalize_garbage",
        "gc_collect_impl",
        "gc_freeze_impl",
    }
)
AIOKAFKA_CONSUME = re.compile(
    r"^aiokafka/(?:consumer|coordinator)/|^aiokafka/protocol/(?:fetch|commit|group|offset)\.py$"
)
AIOKAFKA_PRODUCE = re.compile(
    r"^aiokafka/producer/|^aiokafka/protocol/(?:produce|transaction)\.py$|^aiokafka/partitioner\.py$"
)

LIBUV_SYMBOL = re.compile(r"^uv__?\w+|^epoll_\w+$")

FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def package_path(filename: str) -> str:
    """``eventgate/ingest/decode.py`` from wherever the file lives: after the last
    ``site-packages/``, else after ``lib/python3.X/``, else after the last ``/src/``
    (an editable install or an exported revision), else the name as given."""
    for marker in ("/site-packages/", "/dist-packages/"):
        at = filename.rfind(marker)
        if at >= 0:
            return filename[at + len(marker) :]
    found = re.search(r"/lib/python3\.\d+/(.+)$", filename)
    if found:
        return found.group(1)
    at = filename.rfind("/src/")
    if at >= 0:
        return filename[at + len("/src/") :]
    return filename


@dataclass(frozen=True)
class Owner:
    component: str
    detail: str  # what in the component: a module, "GC", "kernel native"...
    weak: bool = False  # eventgate's glue, aiokafka's shared modules: see ``classify``


def frame_owner(frame: str) -> Owner | None:
    """The owner of one collapsed-stack frame ``name (file:line)``, or None (transparent)."""
    found = FRAME.match(frame)
    if not found:
        return None
    name, filename = found.group("name"), found.group("file")
    if name in GC_FUNCTIONS:
        return Owner(OTHER, "GC")
    if KERNEL_SO.search(filename) or KERNEL_SYMBOL.search(name) or KERNEL_SOURCE.search(filename):
        return Owner(KERNEL, "kernel native")
    path = package_path(filename)
    top = path.split("/", 1)[0]
    if top == "eventgate":
        module = path.removeprefix("eventgate/").removesuffix(".py")
        if PURE.match(path):
            return Owner(KERNEL, module)
        if module == "ingest/producing":
            return Owner(PRODUCE, "eventgate ingest/producing")
        return Owner(OTHER, "eventgate " + module, weak=True)
    if top == "aiokafka":
        module = path.removesuffix(".py")
        if path.startswith("aiokafka/record/"):
            # one package for both directions: the builders write, everything else reads
            if "builder" in name.lower():
                return Owner(PRODUCE, "aiokafka/record builders")
            if path.startswith("aiokafka/record/util") or path.endswith("_crc32c.py"):
                return Owner(AIOKAFKA_SHARED, module, weak=True)
            return Owner(CONSUME, "aiokafka/record readers")
        if AIOKAFKA_CONSUME.search(path):
            return Owner(CONSUME, module)
        if AIOKAFKA_PRODUCE.search(path):
            return Owner(PRODUCE, module)
        return Owner(AIOKAFKA_SHARED, module, weak=True)
    if top in ("redis", "hiredis"):
        return Owner(REDIS, top)
    if top in ("asyncio", "selectors.py"):
        return Owner(LOOP, top.removesuffix(".py"))
    if path.startswith("lib-dynload/_asyncio") or filename.endswith("/_asynciomodule.c"):
        return Owner(LOOP, "_asyncio")
    if top == "uvloop" or "/uvloop/" in filename:
        return Owner(LOOP, "uvloop")
    if LIBUV_SYMBOL.match(name) and ("uvloop" in filename or "libuv" in filename):
        return Owner(LOOP, "libuv")
    if top == "logging":
        return Owner(OTHER, "logging")
    if top == "prometheus_client":
        return Owner(OTHER, "prometheus_client")
    return None


def classify(stack: list[str]) -> Owner:
    """The owner of a sample (frames outermost first): its innermost owned frame, where
    the weak owners give way as follows.

    - eventgate's glue modules are helpers when a pure stage (or the kernel) is further
      out: ``counters/windows`` called by ``counters/encode`` counts for the stage;
    - aiokafka's shared modules count for the consume or produce frame further out, and
      for themselves (``aiokafka (either side)``) when only the event loop is;
    - otherwise the innermost weak owner wins over the strong one outside it (eventgate's
      processor under the event loop is "other", not "event loop")."""
    weak: Owner | None = None
    for frame in reversed(stack):
        owner = frame_owner(frame)
        if owner is None:
            continue
        if owner.weak:
            weak = weak or owner
            continue
        if owner.component == KERNEL or weak is None:
            return owner
        if weak.component == AIOKAFKA_SHARED and owner.component in (CONSUME, PRODUCE):
            return owner
        return weak
    return weak or Owner(OTHER, "unattributed")


def read_raw(path: Path) -> Counter[tuple[str, ...]]:
    """py-spy's raw format: ``frame;frame;... count`` a line, outermost frame first."""
    stacks: Counter[tuple[str, ...]] = Counter()
    with contextlib.suppress(OSError):
        for line in path.read_text(errors="replace").splitlines():
            text, _, count = line.rpartition(" ")
            if text and count.isdigit():
                stacks[tuple(text.split(";"))] += int(count)
    return stacks


def kernel_loaded(pid: int) -> bool:
    """Whether the process has the ``eventgate._kernel`` extension mapped."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return any(KERNEL_SO.search(line.rsplit(" ", 1)[-1]) for line in maps.splitlines())


def pyspy_binary() -> Path | None:
    """py-spy next to the bench's interpreter (``make bench`` installs it), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return beside
    found = shutil.which("py-spy")
    return Path(found) if found else None


def pyspy_version(binary: Path) -> str:
    try:
        out = subprocess.run(  # noqa: S603 - our own py-spy
            [str(binary), "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "py-spy ?"
    return out.stdout.strip() or "py-spy ?"


@dataclass
class Sampler:
    """One ``py-spy record --native`` attached to one worker until ``stop``."""

    binary: Path
    pid: int
    rate: int
    output: Path
    log: Path
    native: bool = True  # False: Python frames only, --nonblocking (pyspy_cost.py compares)
    proc: Proc | None = None
    started: float = 0.0
    stopped: float = 0.0
    summary: dict[str, int] = field(default_factory=dict)

    def start(self) -> Sampler:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.output.unlink(missing_ok=True)
        argv = [
            str(self.binary),
            "record",
            "--pid",
            str(self.pid),
            "--native" if self.native else "--nonblocking",
            "--rate",
            str(self.rate),
            "--format",
            "raw",
            "--full-filenames",
            "--output",
            str(self.output),
        ]
        self.proc = Proc(f"py-spy-{self.pid}", argv, self.log).start()
        self.started = time.monotonic()
        return self

    @property
    def sampler_pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.popen is not None else None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGINT (py-spy then writes its file), SIGKILL after ``timeout``."""
        if self.proc is None or self.proc.popen is None:
            return
        self.stopped = self.stopped or time.monotonic()
        popen = self.proc.popen
        if popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(popen.pid, signal.SIGINT)
            try:
                popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.stop(timeout=5)
        found = re.search(r"Samples: (\d+) Errors: (\d+)", self.proc.tail(10))
        if found:
            self.summary = {"samples": int(found.group(1)), "errors": int(found.group(2))}


def split(
    samplers: list[Sampler],
    worker_us_per_event: float,
    worker_busy_cores: float,
    kernel_label: str,
    version: str,
) -> dict[str, Any]:
    """The worker's CPU per event by component, from the samplers' files: each
    component's share of the samples times the workers' CPU µs per event over the window."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for s in samplers:
        stacks += read_raw(s.output)
    counts: Counter[str] = Counter()
    details: dict[str, Counter[str]] = {c: Counter() for c in COMPONENTS}
    for stack, n in stacks.items():
        owner = classify(list(stack))
        counts[owner.component] += n
        details[owner.component][owner.detail] += n
    total = sum(counts.values())
    window = max((s.stopped - s.started for s in samplers), default=0.0)
    rate = samplers[0].rate if samplers else 0

    def us(n: int) -> float:
        return n / total * worker_us_per_event if total else 0.0

    components: dict[str, Any] = {}
    for c in COMPONENTS:
        n = counts.get(c, 0)
        share = n / total if total else 0.0
        half = 1.96 * math.sqrt(share * (1 - share) / total) if total else 0.0
        components[c] = {
            "samples": n,
            "share": round(share, 4),
            "usPerEvent": round(us(n), 1),
            "ci95UsPerEvent": round(half * worker_us_per_event, 1),
            "detail": {
                what: {"samples": k, "usPerEvent": round(us(k), 2)}
                for what, k in details[c].most_common(12)
            },
        }
    expected = worker_busy_cores * rate * window
    return {
        "sampler": f"{version} record --native --rate {rate}",
        "rateHz": rate,
        "samples": total,
        "errors": sum(s.summary.get("errors", 0) for s in samplers),
        "windowSeconds": round(window, 2),
        # samples / (busy cores x rate x window): py-spy keeps a thread's sample when it is
        # running or runnable, so > 1 means the worker waited for a core (other load)
        "coverage": round(total / expected, 2) if expected else None,
        "workerUsPerEvent": worker_us_per_event,
        "kernelLabel": kernel_label,
        "components": components,
        "gcUsPerEvent": round(us(details[OTHER]["GC"]), 1),
        "raw": [str(s.output) for s in samplers],
    }


def at_plain_cpu(figures: dict[str, Any], plain_us_per_event: float) -> None:
    """Add each component's share of the plain drain's worker CPU per event (the drain
    without the sampler, just before): the sampled drain's own CPU per event runs a few
    µs higher, and nothing says which component the extra belongs to, so this reading
    assumes it is spread like the samples."""
    figures["plainWorkerUsPerEvent"] = plain_us_per_event
    for v in figures["components"].values():
        v["usPerEventAtPlainCpu"] = round(v["share"] * plain_us_per_event, 1)


def summary_line(name: str, figures: dict[str, Any]) -> str:
    """The split as one printed line: each component's µs per event and share."""
    comps = figures["components"]
    parts = []
    for c, v in comps.items():
        if c == AIOKAFKA_SHARED and not v["samples"]:
            continue
        text = (
            f"{figures['kernelLabel'] if c == KERNEL else c} {v['usPerEvent']} ({v['share']:.0%})"
        )
        if c == KERNEL and figures["kernelLabel"] == "kernel":
            native = v["detail"].get("kernel native", {}).get("usPerEvent", 0.0)
            text += f" [native {native:.1f}]"
        if c == OTHER:
            text += f" [GC {figures['gcUsPerEvent']}]"
        parts.append(text)
    worst = max((v["ci95UsPerEvent"] for v in comps.values()), default=0.0)
    share = comps[KERNEL]["share"]
    whole = figures["workerUsPerEvent"]
    versus = f"{figures['kernelLabel']} vs the rest {share * whole:.1f} / {(1 - share) * whole:.1f}"
    plain = figures.get("plainWorkerUsPerEvent")
    if plain:
        versus += (
            f" µs (at the plain drain's {plain} µs/event:"
            f" {share * plain:.1f} / {(1 - share) * plain:.1f})"
        )
    return (
        f"  worker CPU µs/event by component, {name}: "
        + ", ".join(parts)
        + f"; {versus}; {figures['samples']:,} samples at {figures['rateHz']} Hz over"
        f" {figures['windowSeconds']} s, ±{worst} µs at 95 % at most"
        f" (coverage {figures['coverage']})"
    )


def main() -> int:
    """``python bench/cpusplit.py FILE.raw... [--us-per-event X]``: the split of saved
    samples (``.work/profiles``), e.g. to check the rules against a drain's stacks."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("raw", nargs="+", type=Path)
    parser.add_argument("--us-per-event", type=float, default=0.0, help="workers' CPU/event")
    parser.add_argument("--stacks", help="print the stacks given to this component")
    args = parser.parse_args()
    stacks: Counter[tuple[str, ...]] = Counter()
    for path in args.raw:
        stacks += read_raw(path)
    total = sum(stacks.values())
    by: dict[str, Counter[str]] = {c: Counter() for c in COMPONENTS}
    for stack, n in stacks.items():
        owner = classify(list(stack))
        by[owner.component][owner.detail] += n
        if args.stacks == owner.component:
            print(n, " ; ".join(f.split(" (")[0] for f in stack[-8:]))
    for c in COMPONENTS:
        n = sum(by[c].values())
        us = f" {n / total * args.us_per_event:5.1f} µs" if total and args.us_per_event else ""
        print(f"{c:<34}{n:>6} {n / total if total else 0:6.1%}{us}")
        for what, k in by[c].most_common(6):
            print(f"    {what:<40}{k:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
