"""The fuzz benchmark, smaller: mutated tasks load or fail on one located line, in bounds.

bench/fuzz_tasks.py runs 10,000 cases; this runs STYX_FUZZ_TASKS of them (default 300) with
the same mutator, seeded from examples/ and ../shared/skypilot-corpus/tasks. Timings are
printed, not asserted; memory and outcomes are.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).parents[3]
CORPUS = REPO.parent / "shared" / "skypilot-corpus"
COUNT = int(os.environ.get("STYX_FUZZ_TASKS", "300"))


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_tasks", REPO / "bench" / "fuzz_tasks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_tasks"] = module  # the forked workers find their functions by name
    spec.loader.exec_module(module)
    return module


def test_mutated_tasks_load_or_fail_on_one_located_line() -> None:
    bench = _bench()
    results, seeds = bench.run(COUNT, run_seed=7, corpus=CORPUS)
    assert len(results) == COUNT
    assert len(seeds) >= 5 + (200 if (CORPUS / "tasks").is_dir() else 0)
    print(bench.report(results, seeds, bench.baseline(seeds[:20]), 0.0))
    bad = bench.failures(results, timing=False)
    assert not bad, "\n".join(f"case {r.index} {r.outcome} ({'+'.join(r.mutations)}): "
                              f"{r.message}" for r in bad)
    outcomes = {r.outcome for r in results}
    assert "rejected" in outcomes
    assert sum(r.limit is not None for r in results) > COUNT // 20  # the limits are reached


def test_the_mutator_is_deterministic() -> None:
    bench = _bench()
    mutator = bench.Mutator(bench.load_seeds(CORPUS))
    assert mutator.case(3, 41) == mutator.case(3, 41)
    assert mutator.case(3, 41) != mutator.case(3, 42)
