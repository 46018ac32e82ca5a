"""Benchmark: what plans leave behind in STYX_HOME, and what the engine's debug log costs.

Two measures, in one throwaway STYX_HOME each:

- growth: `--plans` plans (default 100) of a 2-node local task; STYX_HOME's size and file
  count after the first plan and after the last (engine binaries are not in it: the bench
  uses the installed engine). Then the same with the engine's log on (STYX_DEBUG=1), for
  the figure the retention policy saves. Acceptance: growth within 2 MB with the log off.
- engine CPU: the engine's CPU time (its processes and their children, from getrusage) for
  `--cpu-repeat` plans of a `--cpu-nodes` (default 300) node task, log off against log on.

    python bench/home_growth.py [--plans 100] [--debug-plans 20] [--cpu-nodes 300] [--cpu-repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
from pathlib import Path

from _home import isolated_styx_home  # bench/ is the script's folder, so on sys.path

TASK = """\
name: grow{nodes}
num_nodes: {nodes}
resources:
  cpus: 0.5
setup: |
  echo setup
run: |
  echo rank $SKYPILOT_NODE_RANK
"""
MB = 1024 * 1024


def footprint(home: Path) -> tuple[int, int]:
    """Bytes and files under `home`, engines excluded."""
    size = files = 0
    for root, dirs, names in os.walk(home):
        if Path(root) == home and "engine" in dirs:
            dirs.remove("engine")
        for name in names:
            try:
                size += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
            files += 1
    return size, files


def set_engine_log(on: bool) -> None:
    if on:
        os.environ["STYX_DEBUG"] = "1"
    else:
        os.environ.pop("STYX_DEBUG", None)


def growth(plans: int, log_on: bool) -> tuple[tuple[int, int], tuple[int, int]]:
    with isolated_styx_home() as tmp:
        from styx.home import styx_home
        from styx.workflow import plan_target, resolve_target

        set_engine_log(log_on)
        task = tmp / "grow.yaml"
        task.write_text(TASK.format(nodes=2))
        target = resolve_target(task)
        plan_target(target)
        first = footprint(styx_home())
        for done in range(1, plans):
            plan_target(target)
            if done % 10 == 0:
                print(f"    {done + 1} plans ...", flush=True)
        return first, footprint(styx_home())


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def engine_cpu(nodes: int, repeat: int) -> dict[bool, float]:
    """Median engine CPU seconds of one plan, log off (False) and on (True), interleaved."""
    seconds: dict[bool, list[float]] = {False: [], True: []}
    with isolated_styx_home() as tmp:
        from styx.workflow import plan_target, resolve_target

        task = tmp / "cpu.yaml"
        task.write_text(TASK.format(nodes=nodes))
        target = resolve_target(task)
        plan_target(target)  # warm: creates the stack, loads the plugin
        for _ in range(repeat):
            for log_on in (False, True):
                set_engine_log(log_on)
                before = children_cpu()
                plan_target(target)
                seconds[log_on].append(children_cpu() - before)
        set_engine_log(False)
    return {on: statistics.median(values) for on, values in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=100, help="plans for the growth measure")
    parser.add_argument("--debug-plans", type=int, default=20,
                        help="plans with the engine log on (0: skip)")
    parser.add_argument("--cpu-nodes", type=int, default=300, help="nodes for the CPU measure")
    parser.add_argument("--cpu-repeat", type=int, default=3, help="plans per setting (median)")
    args = parser.parse_args()
    debug = os.environ.get("STYX_DEBUG")

    print(f"growth: {args.plans} plans of a 2-node task, engine log off")
    (size0, files0), (size1, files1) = growth(args.plans, log_on=False)
    grown = size1 - size0
    print(f"  after plan 1: {size0 / MB:.2f} MB in {files0} files; after plan {args.plans}: "
          f"{size1 / MB:.2f} MB in {files1} files; growth {grown / 1024:.1f} KB "
          f"({'within' if grown <= 2 * MB else 'OVER'} the 2 MB bound)")  # fmt: skip
    if args.debug_plans:
        print(f"growth: {args.debug_plans} plans, engine log on (STYX_DEBUG=1)")
        (dsize0, dfiles0), (dsize1, dfiles1) = growth(args.debug_plans, log_on=True)
        per_plan = (dsize1 - dsize0) / max(1, args.debug_plans - 1)
        print(f"  growth {(dsize1 - dsize0) / MB:.2f} MB, {dfiles1 - dfiles0} files: "
              f"{per_plan / 1024:.1f} KB per plan, {per_plan * 99 / MB:.1f} MB per 100 plans "
              f"(the engine's own rotation stops at {50} MB / 7 days)")  # fmt: skip
    print(f"engine CPU: plan of {args.cpu_nodes} nodes, median of {args.cpu_repeat}")
    cpu = engine_cpu(args.cpu_nodes, args.cpu_repeat)
    print(f"  log off {cpu[False]:.2f} s, log on {cpu[True]:.2f} s: the log costs "
          f"{(cpu[True] - cpu[False]) / cpu[True]:.0%} of the engine's CPU with it on; "
          f"ratio off/on {cpu[False] / cpu[True]:.2f}")  # fmt: skip
    set_engine_log(debug is not None)
    if debug is not None:
        os.environ["STYX_DEBUG"] = debug


if __name__ == "__main__":
    main()
