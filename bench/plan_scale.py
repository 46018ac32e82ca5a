"""Benchmark: plan wall time for 10, 100 and 300 local nodes against a bare engine preview.

For each size, `plan_target` (compile, preview with events, node diff, Plan) is timed against
the Automation API's own `preview()` of the same program on the same stack, and the ratio
printed: what Styx adds on top of the engine, which should stay near 1 as nodes grow. The
rendering of each plan (text, markdown, JSON) is timed too, with the markdown's size against
GitHub's comment limit. Plan only: nothing is applied, no node starts.

    python bench/plan_scale.py [--sizes 10,100,300] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

from _home import isolated_styx_home  # bench/ is the script's folder, so on sys.path

TASK = """\
name: scale{nodes}
num_nodes: {nodes}
resources:
  cpus: 0.5
setup: |
  echo setup on $(hostname)
run: |
  echo rank $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES
"""


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def median_time(action: Callable[[], object], repeat: int) -> float:
    return statistics.median(timed(action)[0] for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300", help="node counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs timed per measure")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]


    rows: list[str] = []
    skipped: list[str] = []
    with isolated_styx_home() as tmp:
        from styx.engine import StackRef, open_stack
        from styx.errors import StyxError
        from styx.plan import (
            GITHUB_COMMENT_LIMIT,
            Plan,
            render_json,
            render_markdown,
            render_text,
        )
        from styx.workflow import plan_target, resolve_target
        from styx.workflow._build import Program, compile_target, program_for

        def open_and_preview(ref: StackRef, program: Program) -> None:
            open_stack(ref, program).preview()

        for nodes in sizes:
            task = tmp / f"scale{nodes}.yaml"
            task.write_text(TASK.format(nodes=nodes))
            try:
                target = resolve_target(task)
                planned = plan_target(target)  # warm: creates the stack, loads the plugin
            except StyxError as error:
                skipped.append(f"{nodes} nodes: {error}")
                continue
            plan = planned.plan
            plan_s = median_time(partial(plan_target, target), args.repeat)
            program = program_for(compile_target(target))
            stack = open_stack(target.ref, program)
            stack.preview()  # warm, as plan_target was
            bare_s = median_time(stack.preview, args.repeat)
            # plan_target opens the stack (workspace, select, outputs) each time; so does this.
            cold_s = median_time(partial(open_and_preview, target.ref, program), args.repeat)
            renderers: dict[str, Callable[[Plan], str]] = {
                "text": render_text, "markdown": render_markdown, "json": render_json,
            }
            render_s = {
                name: median_time(partial(fn, plan), args.repeat) for name, fn in renderers.items()
            }
            markdown = render_markdown(plan)
            intact = plan.summary() in markdown
            rows.append(
                f"{nodes:>4} nodes: plan {plan_s:6.2f} s | bare preview {bare_s:6.2f} s, "
                f"ratio {plan_s / bare_s:4.2f} | open + preview {cold_s:6.2f} s, "
                f"ratio {plan_s / cold_s:4.2f}\n"
                f"            render text {render_s['text'] * 1e3:.1f} ms, markdown "
                f"{render_s['markdown'] * 1e3:.1f} ms, json {render_s['json'] * 1e3:.1f} ms; "
                f"markdown {len(markdown):,} of {GITHUB_COMMENT_LIMIT:,} characters, summary "
                f"{'kept' if intact else 'LOST'} ({len(plan.steps)} steps)"
            )
            print(rows[-1], flush=True)  # as it goes: 300 nodes take a while

    print()
    print("plan wall time vs a bare Automation API preview of the same program:")
    for row in rows:
        print(row)
    for line in skipped:
        print(f"  skipped {line}")


if __name__ == "__main__":
    main()
