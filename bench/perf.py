"""Benchmark: where users wait (issue 17), each figure against a floor from the same run.

    python bench/perf.py [--repeat N] [--sizes 1,100,300] [--with-1000] [--skip-cluster]
                         [--code /path/to/another/checkout]

Whole processes throughout, baseline and subject interleaved, medians printed:
  start-up     `styx --help`, `styx validate examples/hello.yaml`  vs  `python -c pass`
               (and, for information, `python -c 'import click'`)
  no-change    `styx plan` of an applied 2-node task  vs  an Automation API script that
  plan         only previews the same program (bench/_preview.py)
  exec         `styx exec` of a trivial job on the warm 2-node cluster  vs  one plain `ssh`
               round trip to each node, in parallel
  scale        `styx plan` of a fresh N-node task  vs  a preview of N plain dynamic-provider
               resources (bench/_floor.py), with the peak RSS of the largest process
The issue's targets are printed beside the ratios (of wall time, as users wait); CPU seconds
(user + system, the whole process tree) are printed too: on a loaded machine they move far
less than wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from _home import isolated_styx_home  # bench/ is the script's folder, so on sys.path

if TYPE_CHECKING:
    from styx.workflow import Target

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
# What the `styx` console script runs.
STYX = [sys.executable, "-c", "import sys\nfrom styx.cli import main\nmain(sys.argv[1:])"]

TASK = """\
name: {name}
num_nodes: {nodes}
resources:
  cpus: 0.5
setup: |
  echo setup on $(hostname)
run: |
  echo ok
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float  # user + system seconds of the process and its reaped descendants
    peak_mb: float  # ru_maxrss of the process and its reaped descendants: the largest one


def run(argv: Sequence[str], env: Mapping[str, str], cwd: Path = ROOT) -> Run:
    """Time one whole process; fail loudly, since a failed run times nothing useful."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=dict(env), cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 2):  # plan --detailed-exitcode is not used; 2 is tolerated
        raise SystemExit(f"{' '.join(argv[-4:])} failed ({proc.returncode}):\n"
                         f"{err.decode(errors='replace')[-3000:]}")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


@dataclass(frozen=True)
class Envs:
    """The floors run this checkout's code; the subjects run --code's (by default the same)."""

    floor: Mapping[str, str]
    subject: Mapping[str, str]
    # `python -c` puts the working folder first on sys.path: the subjects run in --code.
    subject_cwd: Path = ROOT


def interleaved(floors: Mapping[str, Sequence[str]], subjects: Mapping[str, Sequence[str]],
                envs: Envs, repeat: int) -> dict[str, Run]:
    """Each process `repeat` times, round-robin (so load drifts hit all alike); medians."""
    every = [(name, argv, envs.floor, ROOT) for name, argv in floors.items()]
    every += [(name, argv, envs.subject, envs.subject_cwd) for name, argv in subjects.items()]
    runs: dict[str, list[Run]] = {name: [] for name, _, _, _ in every}
    for _ in range(repeat):
        for name, argv, env, cwd in every:
            runs[name].append(run(argv, env, cwd))
    return {name: Run(statistics.median(r.seconds for r in rs),
                      statistics.median(r.cpu for r in rs), max(r.peak_mb for r in rs))
            for name, rs in runs.items()}


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def startup(envs: Envs, repeat: int) -> None:
    found = interleaved({
        "python -c pass": [sys.executable, "-c", "pass"],
        # Information, not the target: what importing the CLI library alone costs, a floor
        # under any click command (and under the 3x target on a machine where it exceeds it).
        "python -c 'import click'": [sys.executable, "-c", "import click"],
    }, {
        "styx --help": [*STYX, "--help"],
        "styx validate examples/hello.yaml": [*STYX, "validate", "examples/hello.yaml"],
    }, envs, repeat)
    base = found["python -c pass"]
    floor = base.seconds
    print(f"start-up (median of {repeat})          target: <= 3x python -c pass, <= 0.3 s")
    print(f"  {'python -c pass':<36} {floor:6.3f} s  (cpu {base.cpu:5.3f} s)")
    library = found["python -c 'import click'"]
    print(f"  {'python -c ' + repr('import click'):<36} {library.seconds:6.3f} s  "
          f"{library.seconds / floor:5.2f}x  (the CLI library's import alone)")
    for name in ("styx --help", "styx validate examples/hello.yaml"):
        s = found[name].seconds
        print(f"  {name:<36} {s:6.3f} s  {s / floor:5.2f}x  (cpu {found[name].cpu:5.3f} s, "
              f"{found[name].cpu / base.cpu:5.2f}x)  "
              f"{verdict(s / floor <= 3.0)} the ratio, {verdict(s <= 0.3)} 0.3 s")


def ssh_round_trips(target: Target) -> float:
    """One `ssh node true` to each node of the applied cluster, all at once."""
    from styx.engine import StackOps, open_stack
    from styx.nodes import NodeAccess, render_known_hosts
    from styx.nodes._ssh import ssh_argv
    from styx.workflow._nodes import cluster_access

    outputs = StackOps(open_stack(target.ref, create=False)).outputs()
    access = cluster_access(outputs, target.state_dir, target.ref.stack)
    with tempfile.TemporaryDirectory() as tmp:
        known_hosts = Path(tmp) / "known_hosts"
        known_hosts.write_text(render_known_hosts(access))

        def one(node: NodeAccess) -> None:
            subprocess.run(ssh_argv(access, node, known_hosts, "true"), check=True,
                           stdin=subprocess.DEVNULL, capture_output=True)

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(access.nodes)) as pool:
            list(pool.map(one, access.nodes))
        return time.perf_counter() - start


def cluster(tmp: Path, envs: Envs, repeat: int) -> None:
    from styx.workflow import apply_target, down_stack, resolve_target

    task = tmp / "warm2.yaml"
    task.write_text(TASK.format(name="warm2", nodes=2))
    target = resolve_target(task)
    print("applying a 2-node cluster (not timed) ...", flush=True)
    apply_target(target)
    try:
        found = interleaved(
            {"preview script": [sys.executable, str(BENCH / "_preview.py"), str(task)]},
            {"styx plan": [*STYX, "plan", str(task), "-q"]}, envs, repeat)
        base, subject = found["preview script"], found["styx plan"]
        floor, plan = base.seconds, subject.seconds
        print(f"no-change plan, 2 nodes (median of {repeat})  target: <= 1.3x the preview script")
        print(f"  {'Automation API preview script':<36} {floor:6.2f} s  (cpu {base.cpu:5.2f} s)")
        print(f"  {'styx plan':<36} {plan:6.2f} s  {plan / floor:5.2f}x  (cpu {subject.cpu:5.2f}"
              f" s, {subject.cpu / base.cpu:5.2f}x)  {verdict(plan / floor <= 1.3)}")

        ssh_s: list[float] = []
        exec_s: list[float] = []
        for _ in range(repeat):
            ssh_s.append(ssh_round_trips(target))
            exec_s.append(
                run([*STYX, "exec", str(task), "-q"], envs.subject, envs.subject_cwd).seconds)
        ssh, job = statistics.median(ssh_s), statistics.median(exec_s)
        print(f"exec of a trivial job, warm 2 nodes (median of {repeat})  target: <= 1.0 s")
        print(f"  {'plain ssh to each node, in parallel':<36} {ssh:6.2f} s")
        print(f"  {'styx exec':<36} {job:6.2f} s  {job / ssh:5.2f}x  "
              f"{verdict(job <= 1.0)} 1.0 s")
    finally:
        down_stack(target.ref)


def scale(tmp: Path, envs: Envs, sizes: Sequence[int], repeat: int) -> None:
    print(f"fresh plans against the dynamic-resource floor (median of {repeat})  "
          "target at 1,000: <= 1.2x the floor, <= 250 MB")
    for nodes in sizes:
        task = tmp / f"scale{nodes}.yaml"
        task.write_text(TASK.format(name=f"scale{nodes}", nodes=nodes))
        floors = {"floor": [sys.executable, str(BENCH / "_floor.py"), str(nodes)]}
        if nodes >= 1000:
            floors["shaped"] = [sys.executable, str(BENCH / "_floor.py"), str(nodes), "--shaped"]
        found = interleaved(
            floors, {"plan": [*STYX, "plan", str(task), "-q", "--format", "json"]}, envs, repeat)
        floor, plan = found["floor"], found["plan"]
        ratio = plan.seconds / floor.seconds
        mark = (f"  {verdict(ratio <= 1.2)} 1.2x, {verdict(plan.peak_mb <= 250)} 250 MB"
                if nodes >= 1000 else "")
        print(f"  {nodes:>5} nodes: floor {floor.seconds:6.2f} s (cpu {floor.cpu:6.2f}) "
              f"{floor.peak_mb:4.0f} MB | styx plan {plan.seconds:6.2f} s (cpu {plan.cpu:6.2f}) "
              f"{plan.peak_mb:4.0f} MB | {ratio:5.2f}x, cpu {plan.cpu / floor.cpu:5.2f}x{mark}",
              flush=True)
        if "shaped" in found:
            # Information, not the target: the same count of resources shaped like nodes.
            shaped = found["shaped"]
            print(f"  {'':>5}   node-shaped floor {shaped.seconds:6.2f} s (cpu {shaped.cpu:6.2f}) "
                  f"| styx plan / shaped {plan.seconds / shaped.seconds:5.2f}x, "
                  f"cpu {plan.cpu / shaped.cpu:5.2f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (median)")
    parser.add_argument("--sizes", default="1,100,300", help="node counts of the scale plans")
    parser.add_argument("--with-1000", action="store_true", help="add the 1,000-node plan")
    parser.add_argument("--scale-repeat", type=int, default=1, help="runs per scale size")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="the checkout whose styx the timed processes import (to compare "
                             "a branch with main; the floors stay this checkout's)")
    parser.add_argument("--skip-cluster", action="store_true",
                        help="no 2-node cluster: skip the no-change plan and exec")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.with_1000 and 1000 not in sizes:
        sizes.append(1000)

    with isolated_styx_home() as tmp:
        def env(code: Path) -> dict[str, str]:
            path = [str(code.resolve()), str(BENCH), os.environ.get("PYTHONPATH", "")]
            return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}

        envs = Envs(floor=env(ROOT), subject=env(args.code), subject_cwd=args.code.resolve())
        startup(envs, max(args.repeat, 5))
        if not args.skip_cluster:
            cluster(tmp, envs, args.repeat)
        scale(tmp, envs, sizes, args.scale_repeat)


if __name__ == "__main__":
    main()
