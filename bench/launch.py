"""Benchmark: launch wall time for 1 and 4 local nodes, and plan overhead over a bare preview.

Prints ratios against baselines measured in the same run, so the figures compare across
machines: launch(4)/launch(1) says how node count scales (nodes start and are set up in
parallel, so it should stay well under 4); plan/preview says what Styx adds on top of the
engine's own preview of the same program (compile, outputs, node diff).

    python bench/launch.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

from _home import isolated_styx_home  # bench/ is the script's folder, so on sys.path

TASK = """\
name: bench{nodes}
num_nodes: {nodes}
resources:
  cpus: 0.5
setup: |
  echo setup on $(hostname)
run: |
  echo rank $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES
"""


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="previews timed per measure")
    args = parser.parse_args()


    with isolated_styx_home() as tmp:
        from styx.engine import open_stack
        from styx.workflow import (
            apply_target,
            down_stack,
            plan_target,
            resolve_target,
            submit_job,
        )
        from styx.workflow._build import compile_target, program_for

        launch: dict[int, float] = {}
        plan_s = bare_s = 0.0
        for nodes in (1, 4):
            task = tmp / f"bench{nodes}.yaml"
            task.write_text(TASK.format(nodes=nodes))
            target = resolve_target(task)

            def launch_once(target: object = target) -> None:
                apply_target(target)  # type: ignore[arg-type]
                client, job_id = submit_job(target)  # type: ignore[arg-type]
                assert client.wait(job_id).ok

            launch[nodes] = timed(launch_once)
            if nodes == 4:
                plan_times = [
                    timed(partial(plan_target, target)) for _ in range(args.repeat)
                ]
                stack = open_stack(target.ref, program_for(compile_target(target)))
                bare_times = [timed(stack.preview) for _ in range(args.repeat)]
                plan_s, bare_s = statistics.median(plan_times), statistics.median(bare_times)
            down_stack(target.ref)

    print(f"launch  1 node : {launch[1]:7.2f} s")
    print(f"launch  4 nodes: {launch[4]:7.2f} s")
    print(f"ratio launch(4)/launch(1): {launch[4] / launch[1]:.2f}")
    print(f"plan (no changes, 4 nodes): {plan_s:6.2f} s; bare preview: {bare_s:6.2f} s")
    print(f"ratio plan/bare preview: {plan_s / bare_s:.2f}")


if __name__ == "__main__":
    main()
