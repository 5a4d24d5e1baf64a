"""What the package ships: every runtime dependency is used by ``src/`` (an install pulls
nothing for nothing: faust-streaming was one, imported only by the benchmark's naive
peer), and no benchmark code is in it (benchmarks live under ``bench/``)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "eventgate"
# Used without an import of their own, and why.
INDIRECT = {
    "hiredis": "redis-py's parser, picked up by redis when installed",
}


def _imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def _distribution(requirement: str) -> str:
    name = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert name is not None, requirement
    return name.group().lower().replace("_", "-")


def test_every_runtime_dependency_is_imported_by_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    imported = _imported_top_level_modules()
    by_distribution: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            by_distribution.setdefault(distribution.lower().replace("_", "-"), set()).add(module)
    unused = []
    for requirement in project["dependencies"]:
        name = _distribution(requirement)
        if name in INDIRECT:
            continue
        if not by_distribution.get(name, set()) & imported:
            unused.append(name)
    assert unused == [], f"runtime dependencies nothing under src/ imports: {unused}"


def test_no_benchmark_code_ships_in_the_package() -> None:
    shipped = [p.relative_to(SRC) for p in SRC.rglob("*.py") if "bench" in p.stem]
    assert shipped == [], f"benchmark modules under src/ (move them to bench/): {shipped}"
